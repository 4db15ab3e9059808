// Package benchmarks holds parole's cross-package benchmarks: side-by-side
// comparisons with reference C libraries (build tag cgo_refs), load scenarios
// and end-to-end latency runs, with the scripts that print their tables.
//
// Sub-packages:
//
//   - benchmarks/resample: parole's resampler against libspeexdsp and libsoxr
//     (go test -tags cgo_refs -run TestCompare -bench . ./benchmarks/resample/)
package benchmarks
