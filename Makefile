# The two commands of the README. Everything else lives in scripts/.
.PHONY: run test build format clean

run:
	@scripts/run

test:
	@scripts/test

build:
	@scripts/deps && scripts/build release

format:
	@scripts/format

clean:
	rm -rf build build-asan
