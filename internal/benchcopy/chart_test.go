//go:build linux

package main

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestPushChartIsValidSVG checks the chart is well-formed XML that names every row and
// draws the memory target, so BENCHMARKS.md never links a broken picture.
func TestPushChartIsValidSVG(t *testing.T) {
	rows := []chartRow{
		{label: "imagesync cold", wall: stats{6.5, 6.1, 7.0}, rss: stats{70, 68, 76}},
		{label: "imagesync warm", warm: true, wall: stats{0.01, 0.01, 0.02}, rss: stats{17, 17, 17}},
		{label: "crane <cold>", wall: stats{41, 39, 44}, rss: stats{21, 20, 22}},
	}
	svg := pushChart(rows, "title & more")
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"imagesync cold", "imagesync warm", "crane &lt;cold&gt;", "target 64 MiB", "title &amp; more"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart does not show %q", want)
		}
	}
}
