// The root endpoint (`GET /` and `HEAD /`) for the dev stack's Elasticsearch. scripts/dev-stack
// compiles it against the distribution's own jars and installs it into the node it runs.
//
// Why: the integ-test zip that Maven Central serves for 9.x leaves out the rest-root module, so
// `GET /` answers 405 and every client that starts with `info()` or `ping()` (the official Python
// client's users, Haystack's ElasticsearchDocumentStore) cannot connect. The
// module itself is not published on any registry reachable here (docs/dev-stack.md lists what
// was looked for). This answers with the node's own identity, read from the running node (its
// name, cluster name and UUID, and the build and Lucene version compiled into its jars), in the
// response shape of Elasticsearch's root endpoint, so a client sees the same node it talks to.
//
// It is a REST handler without a transport action: on a node with security enabled it would
// need authentication only, not the `cluster:monitor/main` privilege. The dev-stack node runs
// with security off, and scripts/es-tls (security on) does not install it.
package keda.indexer.devstack;

import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

public final class RootEndpointPlugin extends Plugin implements ActionPlugin {
    // Set once the node has built its services; the REST layer serves no request before that.
    private volatile ClusterService clusterService;

    @Override
    public Collection<?> createComponents(PluginServices services) {
        clusterService = services.clusterService();
        return List.of();
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
        RestHandlersServices services,
        Supplier<DiscoveryNodes> nodesInCluster,
        Predicate<NodeFeature> clusterSupportsFeature
    ) {
        return List.of(new RootHandler(() -> clusterService));
    }

    private static final class RootHandler extends BaseRestHandler {
        private final Supplier<ClusterService> clusterService;

        RootHandler(Supplier<ClusterService> clusterService) {
            this.clusterService = clusterService;
        }

        @Override
        public String getName() {
            return "keda_indexer_dev_stack_root";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
        }

        // Like Elasticsearch's own: answering "is the node there?" must not be refused when
        // memory is tight.
        @Override
        public boolean canTripCircuitBreaker() {
            return false;
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            ClusterService cluster = clusterService.get();
            return channel -> {
                Build build = Build.current();
                XContentBuilder body = channel.newBuilder();
                body.startObject();
                body.field("name", cluster.getNodeName());
                body.field("cluster_name", cluster.getClusterName().value());
                body.field("cluster_uuid", cluster.state().metadata().clusterUUID());
                body.startObject("version");
                body.field("number", build.qualifiedVersion());
                body.field("build_flavor", build.flavor());
                body.field("build_type", build.type().displayName());
                body.field("build_hash", build.hash());
                body.field("build_date", build.date());
                body.field("build_snapshot", build.isSnapshot());
                body.field("lucene_version", org.apache.lucene.util.Version.LATEST.toString());
                body.field("minimum_wire_compatibility_version", build.minWireCompatVersion());
                body.field("minimum_index_compatibility_version", build.minIndexCompatVersion());
                body.endObject();
                body.field("tagline", "You Know, for Search");
                body.endObject();
                channel.sendResponse(new RestResponse(RestStatus.OK, body));
            };
        }
    }
}
