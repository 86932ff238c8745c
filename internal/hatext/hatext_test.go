package hatext

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestAt(t *testing.T) {
	w := []string{"show", "stat"}
	for i, want := range map[int]string{-1: "", 0: "show", 1: "stat", 2: ""} {
		if got := At(w, i); got != want {
			t.Errorf("At(%q, %d) = %q, want %q", w, i, got, want)
		}
	}
}

func TestStrerror(t *testing.T) {
	_, statErr := os.Stat("/nonexistent/goproxy-words-test")
	for _, tc := range []struct {
		err         error
		text, errno string
	}{
		{syscall.ECONNREFUSED, "Connection refused", "Connection refused"},
		{fmt.Errorf("dial: %w", syscall.EADDRINUSE), "Address already in use", "Address already in use"},
		{statErr, "No such file or directory", "No such file or directory"},
		{&os.PathError{Op: "open", Path: "x", Err: errors.New("not a config")}, "not a config", ""},
		{errors.New("fd@3 is not a stream socket"), "fd@3 is not a stream socket", ""},
		{syscall.Errno(0), "errno 0", ""},
	} {
		if got := Strerror(tc.err); got != tc.text {
			t.Errorf("Strerror(%v) = %q, want %q", tc.err, got, tc.text)
		}
		if got := Errno(tc.err); got != tc.errno {
			t.Errorf("Errno(%v) = %q, want %q", tc.err, got, tc.errno)
		}
	}
}
