//! The machine's certificate stores (LocalMachine\My, Root, CA) as DER certificates, for
//! host.vpn_certificate. The FFI is here and only here.
#![allow(unsafe_code)]

use windows_sys::Win32::Security::Cryptography::{
    CertCloseStore, CertEnumCertificatesInStore, CertOpenStore, CERT_CONTEXT,
    CERT_STORE_OPEN_EXISTING_FLAG, CERT_STORE_PROV_SYSTEM_W, CERT_STORE_READONLY_FLAG,
    CERT_SYSTEM_STORE_LOCAL_MACHINE,
};

/// Bounds: certificates read from one store, bytes of one certificate.
const MAX_CERTIFICATES: usize = 1024;
const MAX_CERTIFICATE_BYTES: u32 = 64 * 1024;

/// Every certificate of LocalMachine\`name`, read-only; an absent store is empty.
pub fn certificates(name: &str) -> Result<Vec<Vec<u8>>, String> {
    let wide: Vec<u16> = name.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: CERT_STORE_PROV_SYSTEM_W takes a NUL-terminated wide store name as `pvPara`.
    let store = unsafe {
        CertOpenStore(
            CERT_STORE_PROV_SYSTEM_W,
            0,
            0,
            CERT_SYSTEM_STORE_LOCAL_MACHINE
                | CERT_STORE_READONLY_FLAG
                | CERT_STORE_OPEN_EXISTING_FLAG,
            wide.as_ptr().cast(),
        )
    };
    if store.is_null() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    let mut context: *const CERT_CONTEXT = std::ptr::null();
    for _ in 0..MAX_CERTIFICATES {
        // SAFETY: `store` is open; `context` is null or the previous context of this
        // enumeration, which the call frees.
        context = unsafe { CertEnumCertificatesInStore(store, context) }.cast_const();
        if context.is_null() {
            break;
        }
        // SAFETY: a non-null context from the enumeration points to a CERT_CONTEXT whose
        // pbCertEncoded holds cbCertEncoded bytes until the next call.
        unsafe {
            let length = (*context).cbCertEncoded;
            let bytes = (*context).pbCertEncoded;
            if !bytes.is_null() && length <= MAX_CERTIFICATE_BYTES {
                found.push(std::slice::from_raw_parts(bytes, length as usize).to_vec());
            }
        }
    }
    // SAFETY: the enumeration ended (null context) or stopped at the bound; the store is
    // closed once. CERT_CLOSE_STORE flags 0: outstanding contexts are freed with it.
    unsafe {
        if !context.is_null() {
            windows_sys::Win32::Security::Cryptography::CertFreeCertificateContext(context);
        }
        CertCloseStore(store, 0);
    }
    Ok(found)
}
