#!/usr/bin/env bash
# What the example tests (test/examples/) build and run the Go, Java, grpcurl and PyPI-Python
# workers with, every version pinned here or in examples/go/go.mod, examples/java/pom.xml and
# examples/python/requirements-pypi.txt. Sourced by scripts/test.sh after scripts/lib.sh.
#
# Caches, kept between runs on the same machine (a warm run of this script takes about a second):
# - Go binaries (protoc-gen-go, protoc-gen-go-grpc, grpcurl): $SWF_SIDECAR_CACHE/examples-go-bin-<pins>,
#   so a new pin builds a new folder; modules in Go's own cache (~/go/pkg/mod, ~/.cache/go-build).
# - Maven: ~/.m2/repository, filled by one offline-capable build of examples/java; a stamp named
#   after the pom's hash says it is done.
# - Python: a venv $SWF_SIDECAR_CACHE/venv-grpcio-<version>-<hash of the requirements file>.
# The tests then work offline (GOPROXY=off, mvn -o) and fail with a message naming this script
# when something is missing.
#
# Exports: SWF_SIDECAR_GO (the go command), SWF_SIDECAR_GO_BIN (the folder of the three Go
# binaries), SWF_SIDECAR_MVN (mvn), SWF_SIDECAR_PYPI_PYTHON (the venv's python).

examples_setup() {
  local root
  root=$(pwd)
  local protoc_gen_go=v1.36.12 protoc_gen_go_grpc=v1.6.2 grpcurl=v1.9.3

  apt_install jq

  # Go: the machine's toolchain (/usr/local/go on this kind of machine).
  local go
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "the Go toolchain (go, 1.26 or later: examples/go/go.mod) is required: /usr/local/go/bin/go" >&2; return 1; }
  export SWF_SIDECAR_GO=$go
  local gobin="$SWF_SIDECAR_CACHE/examples-go-bin-gen-go-$protoc_gen_go-gen-go-grpc-$protoc_gen_go_grpc-grpcurl-$grpcurl"
  if [ ! -x "$gobin/protoc-gen-go" ] || [ ! -x "$gobin/protoc-gen-go-grpc" ] || [ ! -x "$gobin/grpcurl" ]; then
    echo "building protoc-gen-go $protoc_gen_go, protoc-gen-go-grpc $protoc_gen_go_grpc, grpcurl $grpcurl into $gobin"
    mkdir -p "$gobin.partial"
    local module
    for module in "google.golang.org/protobuf/cmd/protoc-gen-go@$protoc_gen_go" \
      "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$protoc_gen_go_grpc" \
      "github.com/fullstorydev/grpcurl/cmd/grpcurl@$grpcurl"; do
      GOBIN="$gobin.partial" GOFLAGS=-buildvcs=false "$go" install "$module"
    done
    rm -rf "$gobin"
    mv "$gobin.partial" "$gobin"
  fi
  export SWF_SIDECAR_GO_BIN=$gobin
  # The modules examples/go/go.mod and go.sum name, into ~/go/pkg/mod (fast when already there).
  (cd "$root/examples/go" && GOFLAGS=-mod=readonly "$go" mod download)

  # Java: Maven fills ~/.m2 with the pom's plugins, dependencies, protoc and protoc-gen-grpc-java.
  local mvn
  mvn=$(command -v mvn || true)
  [ -n "$mvn" ] || { echo "Maven (mvn, 3.8 or later) and a JDK 17 are required: apt-get install -y maven openjdk-17-jdk-headless" >&2; return 1; }
  export SWF_SIDECAR_MVN=$mvn
  local pom_hash m2_stamp
  pom_hash=$(sha256sum "$root/examples/java/pom.xml" | cut -c1-16)
  m2_stamp="$SWF_SIDECAR_CACHE/examples-m2-$pom_hash"
  # The stamp alone could outlive a wiped ~/.m2: check one artifact of the build too.
  if [ ! -e "$m2_stamp" ] || ! ls "$HOME"/.m2/repository/io/grpc/protoc-gen-grpc-java/*/*.exe >/dev/null 2>&1; then
    echo "filling ~/.m2 for examples/java (one build)"
    local java_out
    java_out=$(mktemp -d)
    # Maven prints its errors on stdout, with colour codes even when quiet: shown only on failure.
    if ! MAVEN_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" "$mvn" -B -q -f "$root/examples/java/pom.xml" -Dexample.buildDir="$java_out" package >"$java_out.log" 2>&1; then
      cat "$java_out.log" >&2
      rm -rf "$java_out" "$java_out.log"
      return 1
    fi
    rm -rf "$java_out" "$java_out.log"
    touch "$m2_stamp"
  fi

  # Python: what `pip install` gives a new user, pinned, in a venv of its own.
  local requirements="$root/examples/python/requirements-pypi.txt" grpcio_version req_hash venv
  grpcio_version=$(sed -n 's/^grpcio==//p' "$requirements")
  req_hash=$(sha256sum "$requirements" | cut -c1-16)
  venv="$SWF_SIDECAR_CACHE/venv-grpcio-$grpcio_version-$req_hash"
  if ! "$venv/bin/python" -c 'import grpc, grpc_tools, boto3' 2>/dev/null; then
    echo "creating $venv (grpcio $grpcio_version from PyPI)"
    local python
    python=$(command -v python3 || true)
    rm -rf "$venv"
    if [ -z "$python" ] || ! "$python" -m venv "$venv" 2>/dev/null; then
      apt_install python3-venv
      rm -rf "$venv"
      /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  fi
  export SWF_SIDECAR_PYPI_PYTHON="$venv/bin/python"
}

examples_setup
unset -f examples_setup
