// Command failtask reports one Amazon SWF activity task as failed through swf-sidecar: the
// part of a Go activity worker that runs when an activity returns an error.
//
// Generate the stubs into ./gen (protoc with protoc-gen-go and protoc-gen-go-grpc on PATH):
//
//	protoc -I ../../proto --go_out=. --go-grpc_out=. \
//	  --go_opt=module=example.com/swf-sidecar-worker --go-grpc_opt=module=example.com/swf-sidecar-worker \
//	  --go_opt=Mswfsidecar/v1/sidecar.proto=example.com/swf-sidecar-worker/gen/swfsidecarv1 \
//	  --go-grpc_opt=Mswfsidecar/v1/sidecar.proto=example.com/swf-sidecar-worker/gen/swfsidecarv1 \
//	  swfsidecar/v1/sidecar.proto
//	go mod tidy
//	go run . -task-token "$TOKEN" -reason "disk full"
//
// The sidecar address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051, or unix:/path).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"
	"unicode/utf16"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	swfsidecarv1 "example.com/swf-sidecar-worker/gen/swfsidecarv1"
)

// SWF's limits, counted in UTF-16 code units as SWF counts them.
const (
	reasonMax  = 256
	detailsMax = 32768
)

// Reporter sends failure reports to the sidecar.
type Reporter struct {
	client swfsidecarv1.ActivityTasksClient
}

// Dial connects to the sidecar with the client retry policy its status codes call for
// (../grpc-retry-policy.json, see ../README.md).
func Dial(address, serviceConfig string) (*Reporter, *grpc.ClientConn, error) {
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(serviceConfig))
	if err != nil {
		return nil, nil, err
	}
	return &Reporter{client: swfsidecarv1.NewActivityTasksClient(conn)}, conn, nil
}

// FailTask reports the task as failed because of cause. A task that is no longer open
// (NOT_FOUND: timed out, canceled) is not an error: there is nothing left to report.
func (r *Reporter) FailTask(ctx context.Context, taskToken string, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err := r.client.FailActivityTask(ctx, &swfsidecarv1.FailActivityTaskRequest{
		TaskToken: taskToken,
		Reason:    proto.String(clip(cause.Error(), reasonMax, false)),
		// The end of a chain of wrapped errors says the most: keep the end if it is too long.
		Details: proto.String(clip(fmt.Sprintf("%+v", cause), detailsMax, true)),
	})
	if status.Code(err) == codes.NotFound {
		log.Printf("task already closed: %s", status.Convert(err).Message())
		return nil
	}
	return err
}

// clip cuts s to at most limit UTF-16 code units, keeping its start or its end, and never
// half of a surrogate pair.
func clip(s string, limit int, keepEnd bool) string {
	units := utf16.Encode([]rune(s))
	if len(units) <= limit {
		return s
	}
	if keepEnd {
		units = units[len(units)-limit:]
		if units[0] >= 0xDC00 && units[0] <= 0xDFFF {
			units = units[1:]
		}
	} else {
		units = units[:limit]
		if last := units[len(units)-1]; last >= 0xD800 && last <= 0xDBFF {
			units = units[:len(units)-1]
		}
	}
	return string(utf16.Decode(units))
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	taskToken := flag.String("task-token", "", "the task token from PollForActivityTask")
	reason := flag.String("reason", "the example activity failed", "why the task failed")
	policy := flag.String("retry-policy", "../grpc-retry-policy.json", "gRPC service config JSON")
	flag.Parse()
	if *taskToken == "" {
		return errors.New("-task-token is required")
	}
	serviceConfig, err := os.ReadFile(*policy)
	if err != nil {
		return err
	}
	address := os.Getenv("SWF_SIDECAR_ADDRESS")
	if address == "" {
		address = "127.0.0.1:50051"
	}
	reporter, conn, err := Dial(address, string(serviceConfig))
	if err != nil {
		return err
	}
	defer conn.Close()

	// In a worker, cause is the error the activity returned.
	cause := fmt.Errorf("processing the task: %w", errors.New(*reason))
	if err := reporter.FailTask(context.Background(), *taskToken, cause); err != nil {
		return fmt.Errorf("could not report the failure: %w", err)
	}
	return nil
}
