package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The statistics page as a browser sees it: the real binary serves a
// stats listen section beside a TCP backend with UP, DOWN, MAINT, backup and
// unchecked servers; headless Chromium renders it, and uses its admin form
// (driven over the DevTools pipe, see cdp_test.go). GOPROXY_TEST_ARTIFACTS,
// when set, is a directory that keeps the screenshots.

// chromium returns the browser's path, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	fmt.Println("SKIP: chromium is not installed (apt-get install chromium)")
	t.Skip("chromium is not installed")
	return ""
}

// runChromium runs one headless Chromium with args, bounded in time; the
// process group it starts is killed by its PID when the time is up.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// keepArtifact copies a file into GOPROXY_TEST_ARTIFACTS when it is set.
func keepArtifact(t *testing.T, path string) string {
	t.Helper()
	dir := os.Getenv("GOPROXY_TEST_ARTIFACTS")
	if dir == "" {
		return path
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// hasColour reports whether the image has a block of at least n pixels of
// colour c (the row backgrounds).
func hasColour(img image.Image, c color.RGBA, n int) bool { return colourCount(img, c) >= n }

// colourCount is the number of pixels of colour c.
func colourCount(img image.Image, c color.RGBA) int {
	b := img.Bounds()
	count := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				count++
			}
		}
	}
	return count
}

func TestE2EStatsPageInBrowser(t *testing.T) {
	browser := chromium(t)
	up := newEcho(t)
	downPort := freePort(t)
	page := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	app := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	sock := filepath.Join(t.TempDir(), "stats.sock")
	cfg := fmt.Sprintf(`global
    stats socket %s level admin
defaults
    timeout client 5s
    timeout server 5s
    timeout connect 1s
listen stats
    mode http
    bind %s
    stats enable
    stats uri /st
    stats realm Test\ Stats
    stats auth admin:s3cret
    stats refresh 30s
    stats show-legends
    stats admin if LOCALHOST
listen app
    bind %s
    server up1 127.0.0.1:%d check inter 200ms
    server down1 127.0.0.1:%d check inter 200ms fall 1
    server maint1 127.0.0.1:%d check disabled
    server bk1 127.0.0.1:%d check inter 200ms backup
    server nochk 127.0.0.1:%d
`, sock, page, app, up.port(), downPort, up.port(), up.port(), up.port())
	startGoproxy(t, cfg, page)
	waitStat(t, sock, 10*time.Second, "down1 DOWN", func(rows map[string]statRow) bool {
		return rows["app/down1"]["status"] == "DOWN" && rows["app/up1"]["status"] == "UP" && rows["app/bk1"]["status"] == "UP"
	})
	base := "http://" + page + "/st"
	authed := "http://admin:s3cret@" + page + "/st"

	// Without credentials: HAProxy's 401 with the realm.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="Test Stats"` {
		t.Fatalf("no credentials: %d %v", resp.StatusCode, resp.Header)
	}

	// The rendered DOM: one table per proxy, rows coloured by state.
	dom := string(runChromium(t, browser, "--dump-dom", authed))
	for _, want := range []string{
		`<a class="px" href="#stats">stats</a>`, `<a class="px" href="#app">app</a>`,
		`<th colspan="3">Queue</th>`, `<th colspan="9">Server</th>`,
		`<tr class="frontend">`, `<tr class="backend">`,
		`<tr class="active_up"><td><input class="app-checkbox" type="checkbox" name="s" value="up1">`,
		`<tr class="active_down"><td><input class="app-checkbox" type="checkbox" name="s" value="down1">`,
		`<tr class="maintain"><td><input class="app-checkbox" type="checkbox" name="s" value="maint1">`,
		`<tr class="backup_up"><td><input class="app-checkbox" type="checkbox" name="s" value="bk1">`,
		`<tr class="active_no_check"><td><input class="app-checkbox" type="checkbox" name="s" value="nochk">`,
		`<option value="maint">Set state to MAINT</option>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("DOM:\n%s", dom)
	}

	// The screenshot shows the state colours.
	shot := filepath.Join(t.TempDir(), "statspage.png")
	runChromium(t, browser, "--hide-scrollbars", "--screenshot="+shot, "--window-size=1400,900", authed)
	img := decodePNG(t, shot)
	maint := color.RGBA{0xc0, 0x78, 0x20, 0}
	maintBefore := colourCount(img, maint)
	for name, c := range map[string]color.RGBA{
		"active UP": {0xc0, 0xff, 0xc0, 0}, "DOWN": {0xff, 0x90, 0x90, 0}, "MAINT": maint,
		"backup UP": {0xb0, 0xd0, 0xff, 0}, "not checked": {0xe0, 0xe0, 0xe0, 0}, "title": {0x20, 0xd0, 0xd0, 0},
	} {
		if !hasColour(img, c, 500) {
			t.Errorf("screenshot has no %s row colour #%02x%02x%02x", name, c.R, c.G, c.B)
		}
	}
	t.Logf("screenshot: %s", keepArtifact(t, shot))

	// The admin form, used in the browser itself: up1's box ticked,
	// "Set state to MAINT" chosen, Apply pressed; the browser posts the
	// form's own fields and follows HAProxy's 303 to ";st=DONE".
	cd := startCDP(t, browser)
	tab := cd.openPage()
	cd.call(tab, "Network.enable", nil)
	cd.call(tab, "Network.setExtraHTTPHeaders", map[string]any{"headers": map[string]string{
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))}})
	cd.call(tab, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	cd.call(tab, "Page.navigate", map[string]any{"url": base})
	up1Box := `document.querySelector('form[method=post] input[name=s][value=up1]')`
	cd.waitFor(tab, `document.readyState === "complete" && `+up1Box, 15*time.Second)
	cd.eval(tab, `(() => {
		const box = `+up1Box+`;
		box.click();
		const action = box.form.querySelector('select[name=action]');
		action.value = 'maint';
		action.dispatchEvent(new Event('change', {bubbles: true}));
		box.form.querySelector('input[type=submit]').click();
		return true;
	})()`)
	cd.waitFor(tab, `location.pathname === "/st;st=DONE" && document.readyState === "complete"`, 15*time.Second)
	if st := showStat(t, sock)["app/up1"]["status"]; st != "MAINT" {
		t.Fatalf("up1 after the admin form: %q, want MAINT", st)
	}

	// The page the browser landed on: the banner and the new row class.
	var html string
	if err := json.Unmarshal(cd.eval(tab, "document.documentElement.outerHTML"), &html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, "Action processed successfully.") ||
		!strings.Contains(html, `<tr class="maintain"><td><input class="app-checkbox" type="checkbox" name="s" value="up1">`) {
		t.Errorf("page after the action lacks the banner or up1's MAINT row")
	}
	var capture struct {
		Data []byte `json:"data"`
	}
	cd.decode(cd.call(tab, "Page.captureScreenshot", map[string]any{"format": "png"}), &capture)
	shot = filepath.Join(t.TempDir(), "statspage-after-maint.png")
	if err := os.WriteFile(shot, capture.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	// maint1's MAINT row, and now up1's.
	if after := colourCount(decodePNG(t, shot), maint); after < maintBefore*3/2 {
		t.Errorf("screenshot after the action: %d MAINT pixels, %d before: up1's row is not MAINT", after, maintBefore)
	}
	t.Logf("screenshot after the action: %s", keepArtifact(t, shot))
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// ;csv is show stat.
	req, _ := http.NewRequest("GET", base+";csv", nil)
	req.SetBasicAuth("admin", "s3cret")
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rows, _ := parseStat(t, string(csv))
	if rows["app/up1"]["status"] != "MAINT" || rows["app/down1"]["status"] != "DOWN" || rows["app/BACKEND"] == nil {
		t.Errorf(";csv: %s", csv)
	}
	// The page's own proxy is listed as HAProxy lists it, with its requests.
	fe, be := rows["stats/FRONTEND"], rows["stats/BACKEND"]
	if fe["mode"] != "http" || fe["status"] != "OPEN" || fe["req_tot"] == "0" || fe["hrsp_4xx"] == "0" || fe["hrsp_3xx"] != "1" ||
		be["status"] != "UP" || be["algo"] != "roundrobin" {
		t.Errorf("stats rows: %v\n%v", fe, be)
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
