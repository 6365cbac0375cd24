// The PAC helper functions (Netscape's PAC specification, with the reference semantics of
// Mozilla's and pacparser's pac_utils.js and Chromium's pac_js_library.h), and Microsoft's
// IPv6-aware "Ex" set. DNS and the device's own addresses come from native functions that
// answer from what joinready resolved beforehand (__jr_dns, __jr_dns_ex, __jr_my_ip,
// __jr_my_ips); the clock is __jr_now_ms so tests can fix it.

function dnsDomainIs(host, domain) {
    host = String(host); domain = String(domain);
    return host.length >= domain.length &&
        host.substring(host.length - domain.length) == domain;
}

function dnsDomainLevels(host) {
    return String(host).split('.').length - 1;
}

function isPlainHostName(host) {
    return String(host).search('(\\.)|:') == -1;
}

function localHostOrDomainIs(host, hostdom) {
    return host == hostdom || String(hostdom).lastIndexOf(host + '.', 0) == 0;
}

function dnsResolve(host) {
    var ip = __jr_dns(String(host));
    return ip === undefined ? null : ip;
}

function isResolvable(host) {
    return dnsResolve(host) != null;
}

function myIpAddress() {
    return __jr_my_ip;
}

function __jr_addr(ip) {
    var bytes = String(ip).split('.');
    return ((bytes[0] & 0xff) << 24) | ((bytes[1] & 0xff) << 16) |
        ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
}

function isInNet(ipaddr, pattern, maskstr) {
    if (ipaddr == null) return false;
    var test = /^(\d{1,4})\.(\d{1,4})\.(\d{1,4})\.(\d{1,4})$/.exec(ipaddr);
    if (test == null) {
        ipaddr = dnsResolve(ipaddr);
        if (ipaddr == null || ipaddr.indexOf(':') != -1) return false;
    } else if (test[1] > 255 || test[2] > 255 || test[3] > 255 || test[4] > 255) {
        return false;
    }
    var host = __jr_addr(ipaddr);
    var pat = __jr_addr(pattern);
    var mask = __jr_addr(maskstr);
    return (host & mask) == (pat & mask);
}

// Chromium's semantics: only * and ? are special; every other character matches itself.
function shExpMatch(url, pattern) {
    pattern = String(pattern).replace(/[.+^${}()|[\]\\\/]/g, '\\$&');
    pattern = pattern.replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp('^' + pattern + '$').test(url);
}

var __jr_wdays = {SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6};
var __jr_months = {JAN: 0, FEB: 1, MAR: 2, APR: 3, MAY: 4, JUN: 5,
                   JUL: 6, AUG: 7, SEP: 8, OCT: 9, NOV: 10, DEC: 11};

function weekdayRange() {
    function getDay(weekday) {
        return weekday in __jr_wdays ? __jr_wdays[weekday] : -1;
    }
    var date = new Date(__jr_now_ms);
    var argc = arguments.length;
    var wday;
    if (argc < 1) return false;
    if (arguments[argc - 1] == 'GMT') {
        argc--;
        wday = date.getUTCDay();
    } else {
        wday = date.getDay();
    }
    var wd1 = getDay(arguments[0]);
    var wd2 = argc == 2 ? getDay(arguments[1]) : wd1;
    if (wd1 == -1 || wd2 == -1) return false;
    return wd1 <= wd2 ? (wd1 <= wday && wday <= wd2) : (wday >= wd1 || wday <= wd2);
}

function __jr_as_gmt(date) {
    var tmp = new Date(date.getTime());
    tmp.setFullYear(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    tmp.setHours(date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds());
    return tmp;
}

function dateRange() {
    function getMonth(name) {
        return name in __jr_months ? __jr_months[name] : -1;
    }
    var date = new Date(__jr_now_ms);
    var argc = arguments.length;
    if (argc < 1) return false;
    var isGMT = arguments[argc - 1] == 'GMT';
    if (isGMT) argc--;
    if (argc == 1) {
        var tmp = parseInt(arguments[0]);
        if (isNaN(tmp)) {
            return (isGMT ? date.getUTCMonth() : date.getMonth()) == getMonth(arguments[0]);
        } else if (tmp < 32) {
            return (isGMT ? date.getUTCDate() : date.getDate()) == tmp;
        } else {
            return (isGMT ? date.getUTCFullYear() : date.getFullYear()) == tmp;
        }
    }
    if (isGMT) date = __jr_as_gmt(date);
    var year = date.getFullYear();
    var date1 = new Date(year, 0, 1, 0, 0, 0);
    var date2 = new Date(year, 11, 31, 23, 59, 59);
    var adjustMonth = false;
    var i, tmp;
    for (i = 0; i < (argc >> 1); i++) {
        tmp = parseInt(arguments[i]);
        if (isNaN(tmp)) {
            date1.setMonth(getMonth(arguments[i]));
        } else if (tmp < 32) {
            adjustMonth = argc <= 2;
            date1.setDate(tmp);
        } else {
            date1.setFullYear(tmp);
        }
    }
    for (i = argc >> 1; i < argc; i++) {
        tmp = parseInt(arguments[i]);
        if (isNaN(tmp)) {
            date2.setMonth(getMonth(arguments[i]));
        } else if (tmp < 32) {
            date2.setDate(tmp);
        } else {
            date2.setFullYear(tmp);
        }
    }
    if (adjustMonth) {
        date1.setMonth(date.getMonth());
        date2.setMonth(date.getMonth());
    }
    return date1 <= date2 ? (date1 <= date && date <= date2) : (date2 >= date || date >= date1);
}

function timeRange() {
    var argc = arguments.length;
    var date = new Date(__jr_now_ms);
    var isGMT = false;
    if (argc < 1) return false;
    if (arguments[argc - 1] == 'GMT') {
        isGMT = true;
        argc--;
    }
    var hour = isGMT ? date.getUTCHours() : date.getHours();
    if (argc == 1) return hour == arguments[0];
    if (argc == 2) return arguments[0] <= hour && hour < arguments[1];
    if (isGMT) date = __jr_as_gmt(date);
    var date1 = new Date(date.getTime());
    var date2 = new Date(date.getTime());
    if (argc == 6) {
        date1.setHours(arguments[0], arguments[1], arguments[2]);
        date2.setHours(arguments[3], arguments[4], arguments[5]);
    } else if (argc == 4) {
        date1.setHours(arguments[0], arguments[1], 0);
        date2.setHours(arguments[2], arguments[3], 59);
    } else {
        throw new Error('timeRange: bad number of arguments');
    }
    return date1 <= date2 ? (date1 <= date && date <= date2) : (date2 >= date || date >= date1);
}

// Microsoft's IPv6 extensions (WinHTTP, Internet Explorer).
function dnsResolveEx(host) {
    return __jr_dns_ex(String(host));
}

function isResolvableEx(host) {
    return dnsResolveEx(host) != '';
}

function myIpAddressEx() {
    return __jr_my_ips;
}

function isInNetEx(ipaddr, prefix) {
    return __jr_in_net_ex(String(ipaddr), String(prefix));
}

function sortIpAddressList(list) {
    return __jr_sort_ips(String(list));
}

function getClientVersion() {
    return '1.0';
}
