# The two commands of the README. Everything else lives in scripts/.
.PHONY: run test fuzz build format clean

run:
	@scripts/run

test:
	@scripts/test

fuzz:
	@scripts/fuzz

build:
	@scripts/deps && scripts/build release

format:
	@scripts/format

clean:
	rm -rf build build-asan build-fuzz
