package commands

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
)

// scanProgress draws a progress bar on stderr for long scans, on a terminal only:
// scripts and CI logs get no carriage-return noise. The files are counted by a walk of
// their own beside the scan, which never reads ahead. A nil *scanProgress does nothing.
type scanProgress struct {
	r      *run
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   int
	total  int // -1 while counting
	shown  bool
}

// progressDelay keeps short scans free of any bar.
const progressDelay = 500 * time.Millisecond

func (r *run) startProgress(ctx context.Context, paths []string) *scanProgress {
	if !r.env.StderrIsTerminal {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &scanProgress{r: r, cancel: cancel, total: -1}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		n := check.CountFiles(ctx, paths)
		p.mu.Lock()
		p.total = n
		p.mu.Unlock()
	}()
	go func() {
		defer p.wg.Done()
		delay := time.NewTimer(progressDelay)
		defer delay.Stop()
		select {
		case <-ctx.Done():
			return
		case <-delay.C:
		}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			p.mu.Lock()
			p.draw()
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// draw writes the bar over the current line; p.mu is held.
func (p *scanProgress) draw() {
	const width = 30
	line := fmt.Sprintf("checked %d files", p.done)
	if p.total >= 0 {
		total := max(p.total, p.done)
		filled := 0
		if total > 0 {
			filled = p.done * width / total
		}
		line = fmt.Sprintf("[%s%s] %d/%d files", strings.Repeat("█", filled), strings.Repeat("░", width-filled), p.done, total)
	}
	fmt.Fprintf(p.r.env.Stderr, "\r\033[K%s", line)
	p.shown = true
}

// clear removes the bar from the line; p.mu is held.
func (p *scanProgress) clear() {
	if p.shown {
		fmt.Fprint(p.r.env.Stderr, "\r\033[K")
		p.shown = false
	}
}

// emitted counts one file done and runs out; when out prints on the terminal (loud),
// the bar is taken out of the way first, and the next tick draws it again.
func (p *scanProgress) emitted(loud bool, out func() error) error {
	if p == nil {
		return out()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if loud {
		p.clear()
	}
	return out()
}

// loud says whether emitting f prints on the terminal the bar is drawn on.
func (r *run) loud(f checkedFile) bool {
	return r.env.StdoutIsTerminal || (f.problem != "" && f.named)
}

func (p *scanProgress) stop() {
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
}
