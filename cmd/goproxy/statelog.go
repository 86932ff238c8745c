package main

import (
	"io"
	"strings"

	"github.com/sirupsen/logrus"
)

// configLog returns a logger for the messages of the configuration stage
// that come from outside the parser (server state files): each warning or
// error becomes a console line "[WARNING]  (pid) : config : <message>", as
// HAProxy prints them, and counts for "Warnings were found." and
// zero-warning. Fields are dropped; lower levels are discarded.
func configLog(c *console) logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.WarnLevel)
	l.AddHook(configHook{c})
	return l
}

type configHook struct{ c *console }

func (h configHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h configHook) Fire(e *logrus.Entry) error {
	msg := "config : " + strings.TrimSuffix(e.Message, "\n")
	if e.Level == logrus.WarnLevel {
		h.c.warning("%s", msg)
	} else {
		h.c.alert("%s", msg)
	}
	return nil
}
