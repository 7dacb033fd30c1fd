// Command failtask reports one Amazon SWF activity task as failed through swf-sidecar: the
// part of a Go activity worker that runs when an activity returns an error.
//
// Generate the stubs into ./gen with protoc, protoc-gen-go and protoc-gen-go-grpc (versions in
// ../README.md), then build and run, from examples/go:
//
//	M=Mswfsidecar/v1/sidecar.proto=example.com/swf-sidecar-worker/gen/swfsidecarv1
//	protoc -I ../../proto --go_out=. --go-grpc_out=. \
//	  --go_opt=module=example.com/swf-sidecar-worker --go-grpc_opt=module=example.com/swf-sidecar-worker \
//	  --go_opt=$M --go-grpc_opt=$M swfsidecar/v1/sidecar.proto
//	go run . -task-token "$TOKEN" -reason "disk full"
//
// The sidecar address comes from SWF_SIDECAR_ADDRESS (default 127.0.0.1:50051, or unix:/path).
// Exit code: 0 reported (or the task was already closed), 75 try again later, 1 retrying cannot
// help.
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
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	swfsidecarv1 "example.com/swf-sidecar-worker/gen/swfsidecarv1"
)

// SWF's limits, counted in UTF-16 code units as SWF counts them.
const (
	reasonMax  = 256
	detailsMax = 32768
)

// Next says what the worker should do after a report.
type Next int

const (
	// Done: reported, or there is nothing left to report.
	Done Next = iota
	// RetryLater: worth another report later (SWF times the task out if nobody reports it).
	RetryLater
	// GiveUp: the same report would fail the same way; log it, alert, move on.
	GiveUp
)

// Reporter sends failure reports to the sidecar.
type Reporter struct {
	client swfsidecarv1.ActivityTasksClient
}

// Dial connects to the sidecar with the client retry policy its status codes call for
// (../grpc-retry-policy.json, see ../README.md): waitForReady, a 60 s timeout, and retries of
// UNAVAILABLE and RESOURCE_EXHAUSTED that honour the sidecar's grpc-retry-pushback-ms.
func Dial(address, serviceConfig string) (*Reporter, *grpc.ClientConn, error) {
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(serviceConfig))
	if err != nil {
		return nil, nil, err
	}
	return &Reporter{client: swfsidecarv1.NewActivityTasksClient(conn)}, conn, nil
}

// FailTask reports the task as failed because of cause, and says what to do next.
func (r *Reporter) FailTask(ctx context.Context, taskToken string, cause error) Next {
	// The deadline covers every attempt of the retry policy together.
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var trailer metadata.MD
	response, err := r.client.FailActivityTask(ctx, &swfsidecarv1.FailActivityTaskRequest{
		TaskToken: taskToken,
		Reason:    proto.String(clip(cause.Error(), reasonMax, false)),
		// The end of a chain of wrapped errors says the most: keep the end if it is too long.
		Details: proto.String(clip(fmt.Sprintf("%+v", cause), detailsMax, true)),
	}, grpc.Trailer(&trailer))
	if err != nil {
		return onError(status.Convert(err), trailer)
	}
	log.Printf("reported: %s after %d SWF call(s)", response.GetOutcome(), response.GetAttempts())
	return Done
}

// onError says what each status code of FailActivityTask means for the worker (see ../README.md).
func onError(s *status.Status, trailer metadata.MD) Next {
	what := fmt.Sprintf("%s: %s", s.Code(), s.Message())
	switch s.Code() {
	case codes.NotFound:
		// SWF no longer knows the task (timed out, canceled, already reported): nothing to do.
		log.Printf("task already closed: %s", what)
		return Done
	case codes.InvalidArgument:
		// A bug on this side (a malformed token, a field too long): the same call fails again.
		log.Printf("could not report the failure, the request is wrong: %s", what)
		return GiveUp
	case codes.PermissionDenied:
		// The sidecar's AWS identity may not call SWF: that needs a person, not a retry.
		log.Printf("could not report the failure, the sidecar may not call SWF: %s", what)
		return GiveUp
	case codes.ResourceExhausted:
		// The retry policy has already waited as long as the sidecar asked. retry-after-ms means
		// the sidecar's queue was full: try again after that long. Without it SWF's quota, shared
		// by the whole account, stayed exhausted: more calls only add load.
		if after := trailer.Get("retry-after-ms"); len(after) > 0 {
			log.Printf("the sidecar is full, try again in %s ms: %s", after[0], what)
			return RetryLater
		}
		log.Printf("could not report the failure, SWF keeps throttling: %s", what)
		return GiveUp
	case codes.Unavailable:
		// Every attempt of the policy failed: the sidecar is down or draining, or SWF is out of
		// reach. Try again later.
		log.Printf("could not report the failure yet: %s", what)
		return RetryLater
	case codes.DeadlineExceeded, codes.Canceled:
		// No answer in time. A report the sidecar accepted is delivered anyway, and a second one
		// is absorbed (the sidecar dedupes task tokens): calling again is safe.
		log.Printf("no answer in time, try again: %s", what)
		return RetryLater
	default:
		// Unknown, Internal, ...: an answer nobody planned for is not known to be transient.
		log.Printf("could not report the failure: %s", what)
		return GiveUp
	}
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
	taskToken := flag.String("task-token", "", "the task token from PollForActivityTask")
	reason := flag.String("reason", "the example activity failed", "why the task failed")
	policy := flag.String("retry-policy", "../grpc-retry-policy.json", "gRPC service config JSON")
	flag.Parse()
	if *taskToken == "" {
		log.Print("-task-token is required")
		os.Exit(2)
	}
	serviceConfig, err := os.ReadFile(*policy)
	if err != nil {
		log.Fatal(err)
	}
	address := os.Getenv("SWF_SIDECAR_ADDRESS")
	if address == "" {
		address = "127.0.0.1:50051"
	}
	reporter, conn, err := Dial(address, string(serviceConfig))
	if err != nil {
		log.Fatal(err)
	}

	// In a worker, cause is the error the activity returned.
	cause := fmt.Errorf("processing the task: %w", errors.New(*reason))
	next := reporter.FailTask(context.Background(), *taskToken, cause)
	conn.Close()
	switch next {
	case RetryLater:
		os.Exit(75)
	case GiveUp:
		os.Exit(1)
	}
}
