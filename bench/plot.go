package bench

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

var (
	colKT  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colRaw = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colors = []color.Color{
		color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
		color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	}
)

func cdf(ds []time.Duration) plotter.XYs {
	s := slices.Clone(ds)
	slices.Sort(s)
	xy := make(plotter.XYs, len(s))
	for i, d := range s {
		xy[i].X = max(ms(d), 0.001)
		xy[i].Y = float64(i+1) / float64(len(s))
	}
	return xy
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// WritePlots writes the SVG plots into dir and returns, per adapter name,
// the files written (base names) with their captions, plus the scaling plot.
func WritePlots(rep *Report, dir string) (map[string][][2]string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	files := map[string][][2]string{}
	for _, ar := range rep.Results {
		for _, d := range ar.Dists {
			if len(d.KT) == 0 || len(d.Raw) == 0 {
				continue
			}
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s — %s (CDF)", ar.Adapter.Name, d.Scenario)
			p.X.Label.Text = "latency (ms, log scale)"
			p.Y.Label.Text = "fraction of samples ≤ x"
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			p.Add(plotter.NewGrid())
			for _, s := range []struct {
				name string
				ds   []time.Duration
				c    color.Color
			}{{"ktables", d.KT, colKT}, {"raw " + ar.Adapter.Name, d.Raw, colRaw}} {
				l, err := plotter.NewLine(cdf(s.ds))
				if err != nil {
					return nil, "", err
				}
				l.Color, l.Width = s.c, vg.Points(1.5)
				p.Add(l)
				p.Legend.Add(s.name, l)
			}
			p.Legend.Top, p.Legend.Left = true, true
			name := fmt.Sprintf("%s-%s.svg", ar.Adapter.Name, slug(d.Scenario))
			if err := p.Save(6*vg.Inch, 3.5*vg.Inch, filepath.Join(dir, name)); err != nil {
				return nil, "", err
			}
			files[ar.Adapter.Name] = append(files[ar.Adapter.Name], [2]string{name, d.Scenario})
		}
	}
	// Catch-up rate against size.
	p := plot.New()
	p.Title.Text = "catch-up rate vs records (bytes codec, flat, 1 partition)"
	p.X.Label.Text = "records (log scale)"
	p.Y.Label.Text = "records/s"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	drew := false
	for i, ar := range rep.Results {
		if len(ar.Scale) == 0 {
			continue
		}
		pts := slices.Clone(ar.Scale)
		slices.SortFunc(pts, func(a, b ScalePoint) int { return a.Records - b.Records })
		var kt, raw plotter.XYs
		for _, s := range pts {
			kt = append(kt, plotter.XY{X: float64(s.Records), Y: s.KT})
			raw = append(raw, plotter.XY{X: float64(s.Records), Y: s.Raw})
		}
		c := colors[i%len(colors)]
		for _, s := range []struct {
			name   string
			xy     plotter.XYs
			dashed bool
		}{{"ktables/" + ar.Adapter.Name, kt, false}, {"raw " + ar.Adapter.Name, raw, true}} {
			l, pts, err := plotter.NewLinePoints(s.xy)
			if err != nil {
				return nil, "", err
			}
			l.Color, pts.Color = c, c
			if s.dashed {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l, pts)
			p.Legend.Add(s.name, l, pts)
			drew = true
		}
	}
	if !drew {
		return files, "", nil
	}
	p.Y.Min = 0
	p.Legend.Top = true
	scale := "catchup-scaling.svg"
	if err := p.Save(6*vg.Inch, 4*vg.Inch, filepath.Join(dir, scale)); err != nil {
		return nil, "", err
	}
	return files, scale, nil
}
