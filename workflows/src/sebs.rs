//! SeBS-Flow's `definition.json` (Copik et al., EuroSys'25; github.com/spcl/serverless-benchmarks,
//! `benchmarks/600.workflows/*/definition.json`), imported as far as it maps.
