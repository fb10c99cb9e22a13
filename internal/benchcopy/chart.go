//go:build linux

package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// chartRow is one bar pair of the push chart: a tool's cold or warm push.
type chartRow struct {
	label     string
	warm      bool
	wall, rss stats
}

// Chart geometry, in SVG user units.
const (
	chartLabelWidth = 130
	chartPanelWidth = 330
	chartPanelGap   = 60
	chartRowHeight  = 24
	chartBarHeight  = 16
	chartTop        = 64
	chartAxisHeight = 40
)

// rssTargetMiB is issue 6's ceiling for imagesync's peak memory while it pushes.
const rssTargetMiB = 64

// chartColors are the tools' colors, in the order rows first name them.
var chartColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b"}

// pushChart draws the rows as two bar charts side by side, wall time and peak RSS: a
// bar is the median, a whisker the range; warm pushes are the paler bars. It is plain
// SVG so the benchmark needs no plotting library.
func pushChart(rows []chartRow, title string) string {
	height := chartTop + len(rows)*chartRowHeight + chartAxisHeight
	width := chartLabelWidth + 2*chartPanelWidth + chartPanelGap + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))

	colors := map[string]string{}
	for i, r := range rows {
		tool, _, _ := strings.Cut(r.label, " ")
		if _, ok := colors[tool]; !ok {
			colors[tool] = chartColors[len(colors)%len(chartColors)]
		}
		y := chartTop + i*chartRowHeight
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", chartLabelWidth-8, y+chartBarHeight-4, html.EscapeString(r.label))
	}
	panels := []struct {
		title, unit string
		target      float64 // drawn as a dashed line when set
		value       func(chartRow) stats
	}{
		{"Wall time", "s", 0, func(r chartRow) stats { return r.wall }},
		{"Peak RSS", "MiB", rssTargetMiB, func(r chartRow) stats { return r.rss }},
	}
	for p, panel := range panels {
		x0 := chartLabelWidth + p*(chartPanelWidth+chartPanelGap)
		top := panel.target
		for _, r := range rows {
			top = math.Max(top, panel.value(r).max)
		}
		scaleMax, step := niceScale(top)
		scale := func(v float64) float64 { return float64(x0) + v/scaleMax*chartPanelWidth }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s (%s)</text>`+"\n", x0, chartTop-16, panel.title, panel.unit)
		bottom := chartTop + len(rows)*chartRowHeight
		for v := 0.0; v <= scaleMax+step/2; v += step {
			x := scale(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, chartTop-6, x, bottom)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x, bottom+16, formatTick(v))
		}
		for i, r := range rows {
			tool, _, _ := strings.Cut(r.label, " ")
			s := panel.value(r)
			y := chartTop + i*chartRowHeight
			opacity := "1"
			if r.warm {
				opacity = "0.45"
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="%s"><title>%s: median %.2f %s, %.2f-%.2f</title></rect>`+"\n",
				x0, y, math.Max(scale(s.median)-float64(x0), 1), chartBarHeight, colors[tool], opacity, html.EscapeString(r.label), s.median, panel.unit, s.min, s.max)
			mid := y + chartBarHeight/2
			fmt.Fprintf(&b, `<path d="M%.1f %dH%.1fM%.1f %dV%dM%.1f %dV%d" stroke="black" fill="none"/>`+"\n",
				scale(s.min), mid, scale(s.max), scale(s.min), mid-4, mid+4, scale(s.max), mid-4, mid+4)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333">%s</text>`+"\n", scale(s.max)+5, y+chartBarHeight-4, formatTick(s.median))
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, chartTop-6, x0, bottom)
		if panel.target > 0 {
			x := scale(panel.target)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#444" stroke-dasharray="4 3"/>`+"\n", x, chartTop-6, x, bottom)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" fill="#444">target %s %s</text>`+"\n", x-3, chartTop-16, formatTick(panel.target), panel.unit)
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceScale is an axis end at or above top, and a step of 1, 2 or 5 times a power of ten
// that divides it into four to ten parts.
func niceScale(top float64) (float64, float64) {
	if top <= 0 {
		return 1, 0.25
	}
	rough := top / 5
	pow := math.Pow(10, math.Floor(math.Log10(rough)))
	step := pow * 10
	for _, m := range []float64{1, 2, 5} {
		if m*pow >= rough {
			step = m * pow
			break
		}
	}
	return math.Ceil(top/step) * step, step
}

func formatTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return fmt.Sprintf("%.2f", v)
	case v < 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
