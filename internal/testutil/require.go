// Package testutil holds helpers shared by parole's tests.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (the CI environment variable is
// set), where every external tool the test set-up installs must be present.
func InCI() bool { return os.Getenv("CI") != "" }

// RequireTool returns the path of the named program. When it is missing the
// test fails under CI (where `make test` installs it) and is skipped
// elsewhere, with the Debian package to install in the message.
func RequireTool(tb testing.TB, name, debianPackage string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(tb, name+" not found: apt-get install "+debianPackage)
	}
	return p
}

// RequireFile returns path when it exists. When it is missing the test fails
// under CI and is skipped elsewhere, with the Debian package that ships it in
// the message.
func RequireFile(tb testing.TB, path, debianPackage string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(tb, path+" not found: apt-get install "+debianPackage)
	}
	return path
}

func missing(tb testing.TB, msg string) {
	tb.Helper()
	if InCI() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}
