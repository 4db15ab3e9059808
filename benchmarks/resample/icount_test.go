//go:build cgo_refs

package resample

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parole-voice/parole/internal/testutil"
)

// icountEnv carries the job of a child process of TestInstructions:
// "engine tier in out frames".
const icountEnv = "PAROLE_RESAMPLE_ICOUNT"

// TestICountChild is the body TestInstructions runs under valgrind: it
// resamples the given number of 20 ms frames with one engine. Without the
// environment variable it does nothing.
func TestICountChild(t *testing.T) {
	job := os.Getenv(icountEnv)
	if job == "" {
		t.Skip("child of TestInstructions only")
	}
	var engine, tierName string
	var in, out, frames int
	if _, err := fmt.Sscan(job, &engine, &tierName, &in, &out, &frames); err != nil {
		t.Fatalf("%s=%q: %v", icountEnv, job, err)
	}
	e := mustEngine(t, engine, tierName, in, out)
	defer e.Close()
	pcm := speechLike(in)
	n := in / 50
	buf := make([]int16, 0, 16*n)
	for i := range frames {
		off := (i % 50) * n
		buf = e.Process(buf[:0], pcm[off:off+n])
	}
}

func mustEngine(t *testing.T, engine, tierName string, in, out int) Engine {
	for _, ti := range tiers {
		if ti.name != tierName {
			continue
		}
		for _, m := range makers(ti) {
			if m.engine == engine {
				e, err := m.mk(in, out)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
		}
	}
	t.Fatalf("no engine %s at tier %s", engine, tierName)
	return nil
}

var irefs = regexp.MustCompile(`I\s+refs:\s+([0-9,]+)`)

// instructions runs TestICountChild under valgrind's cachegrind (no cache
// simulation) and returns the instructions the whole process executed.
func instructions(t *testing.T, valgrind, engine, tierName string, in, out, frames int) int64 {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
		exe, "-test.run=^TestICountChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d %d %d", icountEnv, engine, tierName, in, out, frames))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("valgrind %s: %v\n%s", engine, err, b)
	}
	m := irefs.FindSubmatch(b)
	if m == nil {
		t.Fatalf("valgrind %s: no I refs in\n%s", engine, b)
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(string(m[1]), ",", ""), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestInstructions counts the instructions each engine executes per 20 ms
// frame, a figure that, unlike time, a busy machine does not disturb: each
// engine runs in a child process under valgrind twice, for 200 and for 1200
// frames, and the difference divided by 1000 cancels start-up and filter
// design. Set PAROLE_ICOUNT_ALL=1 to count every pair and tier (slow), else
// only the medium tier at 8→16 kHz.
func TestInstructions(t *testing.T) {
	if os.Getenv(icountEnv) != "" {
		t.Skip("inside a child")
	}
	if testing.Short() {
		t.Skip("valgrind runs take a while")
	}
	valgrind := testutil.RequireTool(t, "valgrind", "valgrind")
	pairs := [][2]int{{8000, 16000}}
	tierNames := []string{"medium"}
	if os.Getenv("PAROLE_ICOUNT_ALL") != "" {
		pairs, tierNames = Pairs, []string{"low", "medium", "high"}
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n%-11s %-8s %-8s %14s %9s\n", "pair", "tier", "engine", "instr/frame", "×parole")
	for _, p := range pairs {
		for _, tn := range tierNames {
			var ref float64
			for _, engine := range []string{"parole", "speexdsp", "soxr"} {
				const n1, n2 = 200, 1200
				a := instructions(t, valgrind, engine, tn, p[0], p[1], n1)
				b := instructions(t, valgrind, engine, tn, p[0], p[1], n2)
				per := float64(b-a) / (n2 - n1)
				if engine == "parole" {
					ref = per
				}
				fmt.Fprintf(&tab, "%-11s %-8s %-8s %14.0f %9.2f\n", fmt.Sprintf("%d→%d", p[0]/1000, p[1]/1000), tn, engine, per, per/ref)
				if per <= 0 {
					t.Errorf("%s %s %v: %.0f instructions per frame", engine, tn, p, per)
				}
			}
		}
	}
	t.Log(tab.String())
}
