//! CPU time of the calling thread, for the examples (the machine is shared; wall time
//! would measure the neighbours).

/// CPU time of the calling thread, in seconds (Linux `/proc`; 0 elsewhere).
pub fn cpu_time() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command: utime and stime are the 12th and 13th.
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
