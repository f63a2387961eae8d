package commands

import (
	"fmt"
	"sync"
	"time"
)

// spinner shows that slow work is under way, on a terminal only: scripts and
// CI logs get no carriage-return noise. The returned func stops it.
func (r *run) spinner(what string) func() {
	if !r.env.StderrIsTerminal {
		return func() {}
	}
	frames := []string{"|", "/", "-", "\\"}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(r.env.Stderr, "\r%s %s…", frames[i%len(frames)], what)
			select {
			case <-done:
				fmt.Fprintf(r.env.Stderr, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
