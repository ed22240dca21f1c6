// kstatus reads Kubernetes objects as JSON (one object, or a List as `kubectl get -o json`
// prints it) on stdin and prints, per object, the status that Flux and the cli-utils apply
// tooling compute for it: one JSON line {kind, namespace, name, status, message}. It exits 1
// when the input cannot be read.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type line struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	var doc map[string]interface{}
	// apimachinery's Unmarshal keeps whole numbers as int64, which unstructured's accessors
	// (metadata.generation, status.observedGeneration) require; encoding/json makes them float64.
	if err := utiljson.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("stdin is not a JSON object: %w", err)
	}
	objects := []map[string]interface{}{doc}
	if items, ok := doc["items"].([]interface{}); ok {
		objects = objects[:0]
		for _, item := range items {
			if o, ok := item.(map[string]interface{}); ok {
				objects = append(objects, o)
			}
		}
	}
	enc := json.NewEncoder(out)
	for _, o := range objects {
		u := &unstructured.Unstructured{Object: o}
		result, err := status.Compute(u)
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if err := enc.Encode(line{u.GetKind(), u.GetNamespace(), u.GetName(), result.Status.String(), result.Message}); err != nil {
			return err
		}
	}
	return nil
}
