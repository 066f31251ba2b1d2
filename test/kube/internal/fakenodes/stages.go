package fakenodes

import (
	"strconv"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/config"
)

// Label is a pod label KEY=VALUE.
type Label struct{ Key, Value string }

// defaultStages are the stages kwokctl gives kwok when it keeps node leases:
// nodes become Ready at once and renew their lease; pods become Running and Ready
// as soon as they are bound, complete, and go away when deleted. Pods labelled
// skip (when its key is set) match no stage, so kwok leaves them to someone else.
func defaultStages(skip Label) (map[internalversion.StageResourceRef][]*internalversion.Stage, error) {
	grouped := map[internalversion.StageResourceRef][]*internalversion.Stage{}
	for _, raw := range []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	} {
		stage, err := config.UnmarshalWithType[*internalversion.Stage](raw)
		if err != nil {
			return nil, err
		}
		if stage.Spec.ResourceRef.Kind == "Pod" && stage.Spec.Selector != nil && skip.Key != "" {
			// A stage's expressions are ANDed; NotIn also holds when the label is absent.
			stage.Spec.Selector.MatchExpressions = append(stage.Spec.Selector.MatchExpressions,
				internalversion.MatchExpression{JQ: &internalversion.SelectorJQ{
					Key:      ".metadata.labels[" + strconv.Quote(skip.Key) + "]",
					Operator: internalversion.SelectorOpNotIn,
					Values:   []string{skip.Value},
				}})
		}
		grouped[stage.Spec.ResourceRef] = append(grouped[stage.Spec.ResourceRef], stage)
	}
	return grouped, nil
}
