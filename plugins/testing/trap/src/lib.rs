const AGGREGATE_TYPE: &str = "test-trap";

fn misbehave() {
    println!("about to trap");
    panic!("this plugin traps on purpose");
}

include!("../../misbehaving-common.rs");
