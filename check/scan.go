package check

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// ScanOptions configure Scan.
type ScanOptions struct {
	// Workers is how many files are checked at once; 0 means GOMAXPROCS.
	Workers int
	// Stdin is read for the path "-".
	Stdin io.Reader
}

// Scan checks every path: a file, "-" for stdin, or a directory, scanned recursively.
// In directories, entries whose name starts with a dot are skipped (.git and the like),
// and symbolic links to directories are reported, not followed (no loops); a file that
// cannot be read or is not certificate material is reported as skipped.
//
// Scan is a pipeline that holds a bounded number of files whatever their count: one
// goroutine walks the paths, Workers goroutines check files and call prepare on each
// report (render there what can be rendered in parallel), and the calling goroutine calls
// emit with the prepared values in input order (the order of paths, then lexical order
// within a directory) as soon as the next ones are ready. Files travel in batches of
// scanBatch: handing each file from goroutine to goroutine cost a fifth of the time of
// checking it. It returns the first error of emit, or ctx's error when ctx ends first.
func Scan[T any](ctx context.Context, k *Checker, paths []string, opts ScanOptions,
	prepare func(*FileReport) T, emit func(T) error) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// window bounds the batches in flight: checked or being checked but not yet
	// emitted. Enough to keep every worker busy while one slow file holds up the order.
	window := 2 * workers
	inner, cancel := context.WithCancel(ctx)
	defer cancel()

	type batch struct {
		seq  int
		jobs []scanJob
	}
	type done struct {
		seq int
		vs  []T
	}
	jobs := make(chan batch)
	results := make(chan done, window)
	slots := make(chan struct{}, window)

	go func() {
		defer close(jobs)
		seq := 0
		var pending []scanJob
		flush := func() bool {
			if len(pending) == 0 {
				return true
			}
			select {
			case slots <- struct{}{}:
			case <-inner.Done():
				return false
			}
			b := batch{seq: seq, jobs: pending}
			seq++
			pending = make([]scanJob, 0, scanBatch)
			select {
			case jobs <- b:
				return true
			case <-inner.Done():
				return false
			}
		}
		send := func(j scanJob) bool {
			pending = append(pending, j)
			return len(pending) < scanBatch || flush()
		}
		for _, p := range paths {
			if p != "-" {
				if fi, err := os.Stat(p); err == nil && fi.IsDir() {
					if !walk(p, send) {
						return
					}
					continue
				}
			}
			if !send(scanJob{path: p, named: true}) {
				return
			}
		}
		flush()
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				vs := make([]T, 0, len(b.jobs))
				for _, j := range b.jobs {
					if inner.Err() != nil {
						break
					}
					var rep FileReport
					if j.err != nil {
						rep = errorReport(j.path, j.named, j.err)
					} else {
						rep = k.CheckFile(inner, j.path, j.named, opts.Stdin)
					}
					vs = append(vs, prepare(&rep))
				}
				results <- done{b.seq, vs}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	pending := map[int][]T{}
	next := 0
	var emitErr error
	for r := range results {
		pending[r.seq] = r.vs
		for {
			vs, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			for _, v := range vs {
				if emitErr != nil {
					break
				}
				if emitErr = emit(v); emitErr != nil {
					cancel()
				}
			}
		}
	}
	if emitErr != nil {
		return emitErr
	}
	return ctx.Err()
}

// scanBatch is how many files travel together through the pipeline.
const scanBatch = 16

type scanJob struct {
	path  string
	named bool
	err   error // set when the walk already knows the file cannot be read
}

// walk sends every file under root, in lexical order; it returns false once send does.
func walk(root string, send func(scanJob) bool) bool {
	// A trailing separator makes the walk start inside a root that is a symbolic link
	// to a directory, which WalkDir would otherwise not enter.
	start := root
	if !strings.HasSuffix(start, string(filepath.Separator)) {
		start += string(filepath.Separator)
	}
	ok := true
	_ = filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if path == start {
			path = root
		}
		var j scanJob
		switch {
		case err != nil:
			j = scanJob{path: path, named: path == root, err: err}
		case path != root && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			fi, serr := os.Stat(path)
			switch {
			case serr != nil:
				j = scanJob{path: path, err: serr}
			case fi.IsDir():
				j = scanJob{path: path, err: errors.New("a symbolic link to a directory, not followed")}
			default:
				j = scanJob{path: path}
			}
		case !d.Type().IsRegular():
			j = scanJob{path: path, err: errors.New("not a regular file")}
		default:
			j = scanJob{path: path}
		}
		if ok = send(j); !ok {
			return fs.SkipAll
		}
		return nil
	})
	return ok
}

// CountFiles counts the files Scan would check in paths, walking the directories
// without reading any file, for a progress bar. It stops when ctx ends, returning what
// it counted so far.
func CountFiles(ctx context.Context, paths []string) int {
	n := 0
	count := func(scanJob) bool {
		n++
		return ctx.Err() == nil
	}
	for _, p := range paths {
		if p != "-" {
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				if !walk(p, count) {
					break
				}
				continue
			}
		}
		n++
	}
	return n
}
