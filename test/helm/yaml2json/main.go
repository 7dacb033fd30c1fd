// yaml2json reads the multi-document YAML that `helm template` prints and writes one JSON array
// of its documents (empty ones left out), converted as kubectl converts: sigs.k8s.io/yaml.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func main() {
	input, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, "yaml2json:", err)
		os.Exit(1)
	}
	documents := []json.RawMessage{}
	for i, part := range separator.Split(string(input), -1) {
		converted, err := yaml.YAMLToJSONStrict([]byte(part))
		if err != nil {
			fmt.Fprintf(os.Stderr, "yaml2json: document %d: %v\n%s\n", i, err, part)
			os.Exit(1)
		}
		if text := strings.TrimSpace(string(converted)); text != "null" && text != "" {
			documents = append(documents, converted)
		}
	}
	out, _ := json.Marshal(documents)
	os.Stdout.Write(out)
}
