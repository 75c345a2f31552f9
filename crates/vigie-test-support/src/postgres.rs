//! A throw-away PostgreSQL server for tests: `initdb` into a temporary directory, started
//! with `pg_ctl` on a free loopback port (its socket in that directory too), a database
//! `vigie` created, stopped and deleted on drop. Trust authentication on loopback only.
//!
//! As root (CI, this machine) the server binaries run as the `postgres` user through
//! `runuser` (initdb refuses root) and the directory is handed to that user. `fsync` is
//! off: the tests kill vigie, never this server, so durability of the server's own files
//! is not what they measure.
//!
//! Speed: `initdb` costs seconds on a loaded machine, so it runs once into a template
//! data directory kept beside the servers (`vigie-pg-template-*`, reused by every later
//! start, replaced atomically), and each server starts from a copy of it. Servers live in
//! `/dev/shm` when it exists (no disk I/O; a test server holds a few tens of MB), else in
//! the system temporary directory; `VIGIE_PG_TMP` overrides. A start is then well under
//! a second, the first one of a machine about three.
//!
//! When the binaries are missing: under `CI=true` the test fails (CI installs them),
//! otherwise `start` says why on stderr and returns None so the caller skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Debian's PostgreSQL 15 binaries; `VIGIE_PG_BIN` overrides.
fn bin_dir() -> PathBuf {
    std::env::var_os("VIGIE_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

/// A running server; stopped and removed when dropped.
pub struct TempPostgres {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Where servers (and the template) live: `VIGIE_PG_TMP`, else `/dev/shm`, else the
/// system temporary directory.
fn base_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("VIGIE_PG_TMP") {
        return PathBuf::from(d);
    }
    let shm = Path::new("/dev/shm");
    let writable = shm.is_dir()
        && tempfile::Builder::new()
            .prefix("vigie-pg-probe-")
            .tempfile_in(shm)
            .is_ok();
    if writable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The initdb'd template data directory for these binaries, made when missing.
fn template(base: &Path, as_postgres: bool) -> PathBuf {
    let initdb = bin_dir().join("initdb");
    // Another PostgreSQL build (a new minor version, another VIGIE_PG_BIN) gets its own.
    let stamp = std::fs::metadata(&initdb)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&(initdb.as_os_str(), stamp), &mut h);
    let path = base.join(format!(
        "vigie-pg-template-{:016x}",
        std::hash::Hasher::finish(&h)
    ));
    if path.join("PG_VERSION").is_file() {
        return path;
    }
    // initdb into a private directory, then rename: concurrent test binaries never see
    // a half-made template, and the loser of a race just drops its copy.
    let work = tempfile::Builder::new()
        .prefix("vigie-pg-initdb-")
        .tempdir_in(base)
        .unwrap_or_else(|e| panic!("cannot create a directory in {}: {e}", base.display()));
    if as_postgres {
        run(Command::new("chown")
            .arg("postgres:postgres")
            .arg(work.path()));
    }
    let data = work.path().join("data");
    let mut c = user_cmd(&initdb, as_postgres);
    c.current_dir(work.path())
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .args(["--no-instructions", "--wal-segsize=1"]);
    let out = run(&mut c);
    assert!(
        out.status.success(),
        "initdb failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if std::fs::rename(&data, &path).is_err() && !path.join("PG_VERSION").is_file() {
        panic!(
            "cannot install the PostgreSQL template at {}",
            path.display()
        );
    }
    path
}

/// `exe`, run as the `postgres` user when we are root.
fn user_cmd(exe: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

impl TempPostgres {
    /// Starts a server, or None (with the reason on stderr) when PostgreSQL is not
    /// installed and `CI` is not `true`. Panics on any other failure: a broken setup.
    pub fn start() -> Option<TempPostgres> {
        let bin = bin_dir();
        if !bin.join("initdb").is_file() || !bin.join("pg_ctl").is_file() {
            let why = format!(
                "PostgreSQL not found in {} (install Debian's postgresql, or set VIGIE_PG_BIN)",
                bin.display()
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{why}");
            }
            eprintln!("skipping the PostgreSQL part of this test: {why}");
            return None;
        }
        let base = base_dir();
        let as_postgres = is_root();
        let template = template(&base, as_postgres);
        let dir = tempfile::Builder::new()
            .prefix("vigie-pg-")
            .tempdir_in(&base)
            .unwrap_or_else(|e| panic!("cannot create a directory in {}: {e}", base.display()));
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()));
        }
        let pg = TempPostgres {
            port: free_port(),
            dir,
            as_postgres,
        };
        let copied = run(Command::new("cp").arg("-a").arg(&template).arg(pg.data()));
        assert!(
            copied.status.success(),
            "cannot copy {}: {}",
            template.display(),
            String::from_utf8_lossy(&copied.stderr)
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            pg.port,
            pg.dir.path().display()
        );
        pg.server_cmd("pg_ctl", |c| {
            c.arg("-D")
                .arg(pg.data())
                .arg("-l")
                .arg(pg.dir.path().join("server.log"))
                .args(["-w", "-t", "30", "-o", &opts, "start"]);
        });
        pg.create_database("vigie");
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's binaries, as `postgres` when we are root.
    fn server_cmd(&self, name: &str, args: impl FnOnce(&mut Command)) -> Output {
        let mut c = user_cmd(&bin_dir().join(name), self.as_postgres);
        // The server's working directory must be readable by the `postgres` user.
        c.current_dir(self.dir.path());
        args(&mut c);
        let out = run(&mut c);
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{name} failed ({}): {}{}\nserver log:\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the data directory, the socket and `server.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The connection string of the `vigie` database.
    pub fn url(&self) -> String {
        self.url_of("vigie")
    }

    pub fn url_of(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates another (empty) database and returns its connection string: one server
    /// serves many tests, each with its own database.
    pub fn create_database(&self, name: &str) -> String {
        self.server_cmd("createdb", |c| {
            c.args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ]);
        });
        self.url_of(name)
    }
}

fn run(c: &mut Command) -> Output {
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", c.get_program()))
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        // `immediate`: nothing to keep, and the temporary directory goes next.
        let mut c = user_cmd(&bin_dir().join("pg_ctl"), self.as_postgres);
        let _ = c
            .current_dir(self.dir.path())
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
