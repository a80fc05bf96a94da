const AGGREGATE_TYPE: &str = "test-endless-loop";

fn misbehave() {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

include!("../../misbehaving-common.rs");
