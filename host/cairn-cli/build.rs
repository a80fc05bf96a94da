//! The PostgreSQL half of the integration tests exists only when
//! CAIRN_TEST_POSTGRES_URL names a database: then it is compiled in
//! (`cfg(cairn_postgres)`) and must pass. Without it those tests are left
//! out of the build and reported as skipped here and by `scripts/test`, so
//! that a run without PostgreSQL never counts them as passed. The NATS
//! tests go the same way with CAIRN_TEST_NATS_URL (`cfg(cairn_nats)`).

fn main() {
    println!("cargo:rustc-check-cfg=cfg(cairn_postgres)");
    println!("cargo:rerun-if-env-changed=CAIRN_TEST_POSTGRES_URL");
    match std::env::var("CAIRN_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => println!("cargo:rustc-cfg=cairn_postgres"),
        _ if std::env::var("PROFILE").as_deref() == Ok("debug") => {
            println!("cargo:warning=CAIRN_TEST_POSTGRES_URL is not set: the PostgreSQL tests are skipped (left out of this build); set it to run them")
        }
        _ => {}
    }
    println!("cargo:rustc-check-cfg=cfg(cairn_nats)");
    println!("cargo:rerun-if-env-changed=CAIRN_TEST_NATS_URL");
    match std::env::var("CAIRN_TEST_NATS_URL") {
        Ok(url) if !url.trim().is_empty() => println!("cargo:rustc-cfg=cairn_nats"),
        _ if std::env::var("PROFILE").as_deref() == Ok("debug") => {
            println!("cargo:warning=CAIRN_TEST_NATS_URL is not set: the NATS publisher tests are skipped (left out of this build); set it to run them")
        }
        _ => {}
    }
}
