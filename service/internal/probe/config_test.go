package probe

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDefaultsAndFlags(t *testing.T) {
	c, err := Parse([]string{"-target", "http://192.168.10.21:30080/readyz"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Targets: []string{"http://192.168.10.21:30080/readyz"}, Count: 5, Interval: 200 * time.Millisecond,
		Timeout: 3 * time.Second, Deadline: 30 * time.Second, ResultFile: "/dev/termination-log"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}

	c, err = Parse([]string{"-target", "http://a:1/readyz", "-target", "https://b/", "-count", "2", "-interval", "0",
		"-timeout", "1s", "-deadline", "1m", "-result", ""}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want = Config{Targets: []string{"http://a:1/readyz", "https://b/"}, Count: 2, Timeout: time.Second, Deadline: time.Minute}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestParseRefusesBadUsage(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no target": {nil, "-target is required"},
		"target":    {[]string{"-target", "192.168.10.21:30080"}, `-target "192.168.10.21:30080" must be an http(s) URL`},
		"no host":   {[]string{"-target", "http:///readyz"}, "must be an http(s) URL"},
		"count":     {[]string{"-target", "http://a/", "-count", "0"}, "-count must be between 1 and 10000"},
		"interval":  {[]string{"-target", "http://a/", "-interval", "-1s"}, "-interval must be 0 or more"},
		"timeout":   {[]string{"-target", "http://a/", "-timeout", "0s"}, "-timeout must be more than 0"},
		"deadline":  {[]string{"-target", "http://a/", "-deadline", "0s"}, "-deadline must be more than 0"},
		"extra":     {[]string{"-target", "http://a/", "oops"}, "unexpected arguments"},
		"flag":      {[]string{"-targets", "http://a/"}, "flag provided but not defined"},
		"duration":  {[]string{"-target", "http://a/", "-timeout", "3"}, "invalid value"},
	}
	for name, tc := range cases {
		_, err := Parse(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
	// Every problem at once.
	_, err := Parse([]string{"-count", "0", "-timeout", "0s"}, io.Discard)
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("got %v, want three problems", err)
	}
	if _, err := Parse([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
