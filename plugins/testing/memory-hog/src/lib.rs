const AGGREGATE_TYPE: &str = "test-memory-hog";

fn misbehave() {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

include!("../../misbehaving-common.rs");
