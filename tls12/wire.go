package tls12

import "errors"

var errVectorTooLong = errors.New("vector too long for its length prefix")

// builder appends TLS presentation-language values. Lengths of vectors are
// back-filled, and an overflow is remembered rather than silently truncated.
type builder struct {
	b   []byte
	err error
}

func (b *builder) u8(v uint8)   { b.b = append(b.b, v) }
func (b *builder) u16(v uint16) { b.b = append(b.b, byte(v>>8), byte(v)) }
func (b *builder) raw(p []byte) { b.b = append(b.b, p...) }

// vec writes a vector whose length prefix takes n bytes.
func (b *builder) vec(n int, f func(*builder)) {
	start := len(b.b)
	b.b = append(b.b, make([]byte, n)...)
	f(b)
	l := len(b.b) - start - n
	if l >= 1<<(8*n) {
		b.err = errVectorTooLong
		return
	}
	for i := range n {
		b.b[start+i] = byte(l >> (8 * (n - 1 - i)))
	}
}

func (b *builder) bytes8(p []byte)  { b.vec(1, func(b *builder) { b.raw(p) }) }
func (b *builder) bytes16(p []byte) { b.vec(2, func(b *builder) { b.raw(p) }) }
func (b *builder) bytes24(p []byte) { b.vec(3, func(b *builder) { b.raw(p) }) }

// parser reads TLS presentation-language values. A read past the end marks
// it failed and returns zero values, so callers check ok once at the end.
type parser struct {
	b      []byte
	failed bool
}

func (p *parser) take(n int) []byte {
	if p.failed || n > len(p.b) {
		p.failed = true
		return nil
	}
	v := p.b[:n:n]
	p.b = p.b[n:]
	return v
}

func (p *parser) uint(n int) int {
	v := 0
	for _, c := range p.take(n) {
		v = v<<8 | int(c)
	}
	return v
}

func (p *parser) u8() uint8   { return uint8(p.uint(1)) }
func (p *parser) u16() uint16 { return uint16(p.uint(2)) }

// vec reads a vector with an n-byte length prefix.
func (p *parser) vec(n int) []byte { return p.take(p.uint(n)) }

// sub reads a vector with an n-byte length prefix as a parser of its own.
func (p *parser) sub(n int) *parser {
	v := p.vec(n)
	return &parser{b: v, failed: p.failed}
}

func (p *parser) empty() bool { return len(p.b) == 0 }

// ok reports whether every read succeeded and nothing is left over.
func (p *parser) ok() bool { return !p.failed && len(p.b) == 0 }
