package fleet

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Kubeconfig sends, like machined, one common.Data chunk holding a gzipped tar
// with a single file "kubeconfig" (v1alpha1_server.go Kubeconfig). Talos
// generates it from the config on any control plane, bootstrapped or not.
func (s *service) Kubeconfig(_ *emptypb.Empty, stream machine.MachineService_KubeconfigServer) error {
	s.n.f.mu.Lock()

	if err := s.checkControlPlaneLocked("kubeconfig"); err != nil {
		s.n.f.mu.Unlock()

		return err
	}

	kubeconfig := s.n.f.opts.Kubeconfig
	cluster := s.n.cfg.Cluster()
	s.n.f.mu.Unlock()

	if kubeconfig == nil {
		var err error
		if kubeconfig, err = generateAdminKubeconfig(cluster); err != nil {
			return err
		}
	}

	archive, err := tarGz("kubeconfig", kubeconfig)
	if err != nil {
		return err
	}

	return stream.Send(&common.Data{Bytes: archive})
}

func tarGz(name string, content []byte) ([]byte, error) {
	var buf bytes.Buffer

	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)

	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     int64(len(content)),
		ModTime:  time.Now(),
		Mode:     0o600,
	}); err != nil {
		return nil, err
	}

	if _, err := tw.Write(content); err != nil {
		return nil, err
	}

	// Like machined, close only the gzip stream: the tar stream ends right after
	// the file's bytes, without padding or end-of-archive blocks.
	if err := zw.Close(); err != nil {
		return nil, err
	}

	return buf.Bytes(), nil
}
