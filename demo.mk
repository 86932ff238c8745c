# demo.mk: `make demo` runs goproxy in front of three CMPP gateway simulators
# (see scripts/demo.sh). Included by the Makefile.
.PHONY: demo
demo: build
	scripts/demo.sh
