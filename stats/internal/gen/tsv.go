package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// record is one data line of a schema file.
type record struct {
	pos    string // file:line, for errors
	fields []string
}

// readTSV reads a tab-separated schema file: lines starting with '#' and
// empty lines are comments; every other line has exactly columns fields.
func readTSV(path string, columns int) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		pos := fmt.Sprintf("%s:%d", path, n)
		if len(fields) != columns {
			return nil, fmt.Errorf("%s: %d fields, want %d", pos, len(fields), columns)
		}
		out = append(out, record{pos: pos, fields: fields})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// goType maps a schema type to the stats package's vtype constant.
func goType(pos, t string) (string, error) {
	switch t {
	case "str":
		return "tStr", nil
	case "u32":
		return "tU32", nil
	case "u64":
		return "tU64", nil
	case "s32":
		return "tS32", nil
	}
	return "", fmt.Errorf("%s: unknown type %q", pos, t)
}

// checkTags checks HAProxy's three tag letters (origin, nature, scope).
func checkTags(pos, tags string) error {
	if len(tags) != 3 {
		return fmt.Errorf("%s: tags %q are not three letters", pos, tags)
	}
	return nil
}
