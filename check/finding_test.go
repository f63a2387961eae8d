package check

import "testing"

func TestWorst(t *testing.T) {
	for _, tc := range []struct {
		in   []Level
		want Level
	}{
		{nil, ""},
		{[]Level{Info}, Info},
		{[]Level{Info, Warn, Info}, Warn},
		{[]Level{Warn, Fail, Info}, Fail},
	} {
		var fs []Finding
		for _, l := range tc.in {
			fs = append(fs, Finding{Level: l})
		}
		if got := Worst(fs); got != tc.want {
			t.Errorf("Worst(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
