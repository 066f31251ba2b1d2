// Package execkubelet runs the container of each pod carrying a label for real,
// in place of kwok: chrooted to a copy of an unpacked image, in the network
// namespace of the node the pod is bound to, reporting to the API server the
// way a kubelet does.
package execkubelet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Config says which pods to run and how.
type Config struct {
	// LabelKey and LabelValue select the pods; with no key, the exec kubelet does not run.
	LabelKey, LabelValue string
	// NetNS maps a node's name to a network namespace: a name from `ip netns`, or a path.
	NetNS map[string]string
	// Rootfs is the unpacked root file system of the pods' image.
	Rootfs string
	// Kubeconfig holds the exec kubelet's own credentials.
	Kubeconfig string
	// Dir gets a directory per pod: the container's log, and its root while it runs.
	Dir string
}

// errDeleted stops a pod's run because the pod is being deleted.
var errDeleted = errors.New("pod deleted")

type kubelet struct {
	Config
	ctx    context.Context
	client kubernetes.Interface
	// pods is only used from the informer's event handler.
	pods map[types.UID]*podRun
	wg   sync.WaitGroup
}

type podRun struct {
	stop     context.CancelCauseFunc // nil if the exec kubelet never ran the pod
	done     chan struct{}
	deleting bool
}

// Run runs the selected pods until ctx is done, then kills their processes.
func Run(ctx context.Context, c Config) error {
	selector, err := labels.ValidatedSelectorFromSet(labels.Set{c.LabelKey: c.LabelValue})
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// Absolute, as the containers' roots under Dir are.
	if c.Dir, err = filepath.Abs(c.Dir); err != nil {
		return err
	}
	if c.Rootfs, err = filepath.Abs(c.Rootfs); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	k := &kubelet{Config: c, ctx: ctx, client: client, pods: map[types.UID]*podRun{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(
		func(o *metav1.ListOptions) { o.LabelSelector = selector.String() }))
	_, err = factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { k.sync(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { k.sync(obj.(*corev1.Pod)) },
		DeleteFunc: k.forget,
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown() // after which no handler runs
	k.wg.Wait()
	return nil
}

// sync starts a bound pod's run, or, once the pod is being deleted, stops the
// run and deletes the pod for good.
func (k *kubelet) sync(pod *corev1.Pod) {
	r := k.pods[pod.UID]
	switch {
	case pod.DeletionTimestamp != nil:
		if r == nil {
			r = &podRun{done: make(chan struct{})}
			close(r.done)
			k.pods[pod.UID] = r
		}
		if !r.deleting {
			r.deleting = true
			if r.stop != nil {
				r.stop(errDeleted)
			}
			k.goDelete(pod, r.done)
		}
	case r == nil && pod.Spec.NodeName != "" && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
		ctx, stop := context.WithCancelCause(k.ctx)
		r = &podRun{stop: stop, done: make(chan struct{})}
		k.pods[pod.UID] = r
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			defer close(r.done)
			k.run(ctx, pod)
		}()
	}
}

// forget stops the run of a pod that is gone.
func (k *kubelet) forget(obj any) {
	if gone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = gone.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if r := k.pods[pod.UID]; r != nil && r.stop != nil {
		r.stop(errDeleted)
	}
	delete(k.pods, pod.UID)
}

// run runs the pod's container and reports how it ended.
func (k *kubelet) run(ctx context.Context, pod *corev1.Pod) {
	dir := filepath.Join(k.Dir, pod.Namespace+"_"+pod.Name+"_"+string(pod.UID))
	root := filepath.Join(dir, "rootfs")
	logger := klog.LoggerWithValues(klog.Background(), "pod", klog.KObj(pod), "node", pod.Spec.NodeName)
	defer func() {
		if err := os.RemoveAll(root); err != nil {
			logger.Error(err, "Could not remove the container's root")
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		logger.Error(err, "Could not make the pod's directory")
		return
	}
	e := k.execute(ctx, pod, dir, root)
	if e == nil {
		return
	}
	logger.Info("Container ended", "exitCode", e.code, "reason", e.reason)
	k.report(pod, func(cur *corev1.Pod) corev1.PodStatus { return terminated(cur, *e) })
}

// report replaces the pod's status with what status makes of the current pod.
func (k *kubelet) report(pod *corev1.Pod, status func(cur *corev1.Pod) corev1.PodStatus) {
	pods := k.client.CoreV1().Pods(pod.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(k.ctx, pod.Name, metav1.GetOptions{})
		if err != nil || cur.UID != pod.UID {
			return err
		}
		cur.Status = status(cur)
		_, err = pods.UpdateStatus(k.ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && k.ctx.Err() == nil {
		klog.ErrorS(err, "Could not update pod status", "pod", klog.KObj(pod))
	}
}

// goDelete deletes the pod with grace period 0 once its run is done.
func (k *kubelet) goDelete(pod *corev1.Pod, done <-chan struct{}) {
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		<-done
		err := k.client.CoreV1().Pods(pod.Namespace).Delete(k.ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
		})
		if err != nil && !apierrors.IsNotFound(err) && k.ctx.Err() == nil {
			klog.ErrorS(err, "Could not delete pod", "pod", klog.KObj(pod))
		}
	}()
}
