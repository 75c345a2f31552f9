//! "Did you mean" suggestions for unknown ids.

/// Up to `max` known ids closest to `wanted` (edit distance at most a third of its length,
/// or sharing it as a substring), best first.
pub fn closest<'a>(
    wanted: &str,
    known: impl Iterator<Item = &'a String>,
    max: usize,
) -> Vec<String> {
    let w = wanted.to_ascii_lowercase();
    let limit = (w.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &String)> = known
        .filter_map(|k| {
            let kl = k.to_ascii_lowercase();
            // Cheap length filter first: million-asset models make this loop hot.
            let d = if kl.contains(&w) || (w.len() >= 4 && w.contains(&kl)) {
                0
            } else if kl.len().abs_diff(w.len()) > limit {
                return None;
            } else {
                levenshtein(&w, &kl)
            };
            (d <= limit).then_some((d, k))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(max)
        .map(|(_, k)| k.clone())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_ids_only() {
        let known = [
            "ad-dc-01".to_string(),
            "crm-db".to_string(),
            "billing".to_string(),
        ];
        assert_eq!(
            closest("ad-dc-1", known.iter(), 3),
            vec!["ad-dc-01".to_string()]
        );
        assert!(closest("zzzzzzzz", known.iter(), 3).is_empty());
    }
}
