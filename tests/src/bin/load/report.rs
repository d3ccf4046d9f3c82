//! The suite's output: `RESULT\tname\tfigure\ttarget\tverdict` rows and `DETAIL\ttext`
//! lines on stdout, which `cargo xtask bench` puts into `BENCHMARKS.md`.

/// Prints one result row.
pub fn result(name: &str, figure: String, target: &str, reached: Option<bool>) {
    let verdict = match reached {
        Some(true) => "reached",
        Some(false) => "NOT reached",
        None => "-",
    };
    println!("RESULT\t{name}\t{figure}\t{target}\t{verdict}");
}

/// Prints one detail line.
pub fn detail(text: String) {
    println!("DETAIL\t{text}");
}
