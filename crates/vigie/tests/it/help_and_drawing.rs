//! Every command's `--help` teaches by example, a failed drawing keeps the answer, and a
//! closed pipe (`| head`) ends the run quietly.

use std::process::Command;

use super::cli::vigie;

#[test]
fn every_help_has_examples() {
    let commands: &[&[&str]] = &[
        &["hunt"],
        &["rules", "check"],
        &["model", "check"],
        &["model", "generate"],
        &["model", "show"],
        &["assess"],
        &["contain"],
        &["restore"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--help");
        let o = vigie(&args);
        assert!(o.status.success(), "{c:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("Examples:"),
            "{c:?} --help has no examples:\n{text}"
        );
        assert!(
            text.contains(&format!("vigie {}", c.join(" "))),
            "{c:?}:\n{text}"
        );
    }
}

#[test]
fn a_failed_svg_keeps_the_text_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A directory that does not exist: whether or not Graphviz is installed, the SVG
    // cannot be written.
    let svg = dir.path().join("no/such/dir/reach.svg");
    for cmd in ["assess", "contain"] {
        let o = vigie(&[
            cmd,
            "--compromised",
            "emp-web-1",
            "--svg",
            svg.to_str().expect("utf-8"),
        ]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("customer-hours"),
            "{cmd}: the report is still printed:\n{out}"
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("error:"), "{cmd}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    // The reader takes one byte and goes away, as `| head -c 1` does. The output must
    // be over a pipe's buffer (64 KiB) for the write to fail: `rules check` of every
    // SigmaHQ folder is about 80 KB of JSON.
    let sigma = vigie_test_support::shared().join("sigma");
    let sigma = sigma.to_str().expect("utf-8");
    let cases: [&[&str]; 2] = [
        &["rules", "check", "--rules", sigma, "--format", "json"],
        &["model", "generate", "--assets", "3000"],
    ];
    for args in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut out = child.stdout.take().expect("stdout");
        let mut one = [0u8; 1];
        out.read_exact(&mut one).expect("one byte");
        drop(out);
        let o = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
