//! RFC 2782 ordering of SRV records: lowest priority first; within a priority, a weighted
//! random choice in which weight-0 records come first and a running sum picks the next one.

/// Orders `records` (priority, weight, item). `pick(sum)` must return a uniform number in
/// `0..=sum`; tests pass a fixed sequence, the runner passes a random one.
pub fn rfc2782_order<T>(records: Vec<(u16, u16, T)>, mut pick: impl FnMut(u32) -> u32) -> Vec<T> {
    let mut records = records;
    // Stable sort keeps the DNS answer's order among equals before the weighted draw.
    records.sort_by_key(|(priority, _, _)| *priority);
    let mut ordered = Vec::with_capacity(records.len());
    let mut rest = records.into_iter().peekable();
    while let Some((priority, _, _)) = rest.peek() {
        let priority = *priority;
        let mut group: Vec<(u16, T)> = Vec::new();
        while let Some((_, weight, item)) = rest.next_if(|(p, _, _)| *p == priority) {
            group.push((weight, item));
        }
        // "arrange all SRV RRs (that have not been ordered yet) in any order, except that all
        // those with weight 0 are placed at the beginning of the list" (RFC 2782).
        group.sort_by_key(|(weight, _)| *weight != 0);
        while !group.is_empty() {
            let sum: u32 = group.iter().map(|(weight, _)| u32::from(*weight)).sum();
            let chosen = pick(sum).min(sum);
            let mut running = 0u32;
            let index = group
                .iter()
                .position(|(weight, _)| {
                    running += u32::from(*weight);
                    running >= chosen
                })
                .unwrap_or(0);
            ordered.push(group.remove(index).1);
        }
    }
    ordered
}

/// A uniform pick in `0..=sum` from the thread's random generator.
pub fn random_pick(sum: u32) -> u32 {
    rand::random_range(0..=sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_priority_always_first() {
        let records = vec![(10, 100, "b"), (0, 0, "a"), (20, 5, "c")];
        for _ in 0..50 {
            assert_eq!(
                rfc2782_order(records.clone(), random_pick),
                vec!["a", "b", "c"]
            );
        }
    }

    #[test]
    fn running_sum_selects_by_weight() {
        // Weights 0, 10, 90: the weight-0 record sits first; a pick of 0 takes it.
        let records = vec![(0, 10, "ten"), (0, 90, "ninety"), (0, 0, "zero")];
        let mut picks = vec![0, 50, 0].into_iter();
        let order = rfc2782_order(records.clone(), |_| picks.next().unwrap());
        // 50 > 0+10, so "ninety" (running sum 100) is chosen second.
        assert_eq!(order, vec!["zero", "ninety", "ten"]);

        let mut picks = vec![5, 0, 0].into_iter();
        let order = rfc2782_order(records, |_| picks.next().unwrap());
        // 5 ≤ 0+10: "ten" first, then "zero" (running 0 ≥ 0).
        assert_eq!(order, vec!["ten", "zero", "ninety"]);
    }

    #[test]
    fn weights_shape_the_distribution() {
        let records = vec![(0, 90, "heavy"), (0, 10, "light")];
        let first_heavy = (0..2000)
            .filter(|_| rfc2782_order(records.clone(), random_pick)[0] == "heavy")
            .count();
        // Expected 1800 of 2000 (the 0 pick slightly favours the first); allow wide noise.
        assert!((1650..=1950).contains(&first_heavy), "{first_heavy}");
    }

    #[test]
    fn out_of_range_pick_is_clamped() {
        let order = rfc2782_order(vec![(0, 1, "a"), (0, 1, "b")], |_| u32::MAX);
        assert_eq!(order, vec!["b", "a"]);
    }
}
