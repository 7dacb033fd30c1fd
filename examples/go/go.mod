module example.com/swf-sidecar-worker

go 1.21

require (
	google.golang.org/grpc v1.64.0
	google.golang.org/protobuf v1.34.1
)
