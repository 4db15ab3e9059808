//go:build !amd64 || purego

package resample

// kernel is the portable Go kernel on this architecture.
var kernel = kernelGo
