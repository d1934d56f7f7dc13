//! Classification throughput on real tool definitions: the 321 tools of the labelled eval set
//! (tests/fixtures/eval), classified one server at a time on one core.
//!
//!     taskset -c 0 cargo bench --bench classify

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use toolrisk::classify::{eval, Classifier, ServerContext};
use toolrisk::model::Tool;

// The allocator the `toolrisk` binary runs with (src/main.rs), so the figure is the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> Vec<Tool> {
    let cases = eval::load_cases(Path::new("tests/fixtures/eval")).expect("eval fixtures load");
    cases
        .iter()
        .map(|c| Tool::from_json(&c.tool).expect("fixture tools are valid"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let tools = corpus();
    let classifier = Classifier::builtin();
    let ctx = ServerContext {
        id: "bench".into(),
        name: "bench".into(),
        ..ServerContext::default()
    };
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(tools.len() as u64));
    group.bench_function("eval_set_tools", |b| {
        b.iter(|| black_box(classifier.classify_tools(black_box(&ctx), black_box(&tools))))
    });
    let blind = Classifier::builtin().ignore_annotations(true);
    group.bench_function("eval_set_tools_ignore_annotations", |b| {
        b.iter(|| black_box(blind.classify_tools(black_box(&ctx), black_box(&tools))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
