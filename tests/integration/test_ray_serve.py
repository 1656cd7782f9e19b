"""rerankd on real Ray Serve: a local cluster started here, 2 replicas of the tiny model,
concurrent clients, a replica killed mid-run, and a Redis cache shared by the replicas."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from rerankd.config import Settings
from tests.integration.server_harness import free_port

ray = pytest.importorskip("ray", reason="Ray Serve is an optional extra: rerankd[ray]")
serve = pytest.importorskip("ray.serve")
REDIS = shutil.which("redis-server")
DOCS = ["Beijing is the capital of China.", "Bananas are yellow.", "北京是首都。"]


@pytest.fixture(scope="module")
def redis_url():
    if REDIS is None:
        pytest.skip("no redis-server (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tiny_model_dir, redis_url):
    """A local Ray cluster running rerankd with 2 replicas, sharing a Redis cache."""
    from rerankd.ray_serve import DEPLOYMENT_NAME, build_application

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    settings = Settings.from_mapping({
        "model": str(tiny_model_dir), "dtype": "float32", "max_length": 512,
        "served_model_name": "tiny", "cache_url": redis_url, "api_key": "ray-key",
        "replicas": 2,
    })
    serve.run(build_application(settings), name=DEPLOYMENT_NAME, route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(url)
    yield url
    serve.shutdown()
    ray.shutdown()


def wait_until_ready(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError("rerankd on Ray Serve did not become ready")


def post_with_retries(url: str, body: dict, attempts: int = 60) -> httpx.Response:
    """What a client does while a replica is replaced: retry failed requests."""
    for _ in range(attempts):
        try:
            reply = httpx.post(url + "/rerank", json=body, timeout=60,
                               headers={"Authorization": "Bearer ray-key"})
            if reply.status_code < 500:
                return reply
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"no answer after {attempts} attempts")


def replica_actor_names() -> list[str]:
    from ray.util import list_named_actors

    return [
        actor["name"] for actor in list_named_actors(all_namespaces=True)
        if "SERVE_REPLICA" in actor["name"] and "rerankd" in actor["name"]
    ]


def test_100_concurrent_requests_survive_a_killed_replica(cluster, reranker):
    queries = [f"question {i} about capitals" for i in range(100)]
    expected = {q: [r.index for r in reranker.rank(q, DOCS)] for q in queries[:10]}
    expected_scores = {q: reranker.rank(q, DOCS)[0].relevance_score for q in queries[:10]}
    assert len(replica_actor_names()) == 2
    answered: dict[str, dict] = {}
    killed = threading.Event()

    def ask(query: str) -> None:
        answered[query] = post_with_retries(cluster, {"query": query, "documents": DOCS}).json()
        if len(answered) == 30 and not killed.is_set():
            killed.set()
            victim = replica_actor_names()[0]
            ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ask, queries))
    assert killed.is_set() and len(answered) == 100
    for query in queries:
        results = answered[query]["results"]
        assert len(results) == 3 and answered[query]["model"] == "tiny"
        if query in expected:
            assert [r["index"] for r in results] == expected[query]
            assert results[0]["relevance_score"] == pytest.approx(expected_scores[query], abs=1e-5)
    # Ray Serve brings the deployment back to 2 replicas.
    deadline = time.monotonic() + 120
    while len(replica_actor_names()) < 2:
        assert time.monotonic() < deadline, "the killed replica was not replaced"
        time.sleep(0.5)


def test_every_dialect_auth_and_metrics_work_through_ray(cluster):
    import cohere

    client = cohere.ClientV2(api_key="ray-key", base_url=cluster)
    assert len(client.rerank(model="m", query="capital", documents=DOCS, top_n=2).results) == 2
    headers = {"Authorization": "Bearer ray-key"}
    score = httpx.post(cluster + "/score", json={"text_1": "q", "text_2": DOCS}, headers=headers)
    assert score.status_code == 200 and len(score.json()["data"]) == 3
    assert httpx.post(cluster + "/v2/rerank", json={"query": "q", "documents": DOCS}
                      ).status_code == 401
    bad = httpx.post(cluster + "/v2/rerank", json={"query": "", "documents": DOCS},
                     headers=headers)
    assert bad.status_code == 422 and "query must not be empty" in bad.json()["message"]
    assert "rerankd_requests_total" in httpx.get(cluster + "/metrics", headers=headers).text


def test_replicas_share_the_redis_cache(cluster, redis_url):
    import redis

    store = redis.Redis.from_url(redis_url)
    body = {"query": "a query for the shared cache", "documents": ["one", "two", "three", "x"]}
    before = store.info("stats")["keyspace_hits"]
    first = post_with_retries(cluster, body).json()
    replies = [post_with_retries(cluster, body).json() for _ in range(6)]
    assert all(reply["results"] == first["results"] for reply in replies)
    assert store.info("stats")["keyspace_hits"] - before >= 6 * 4
    assert len(store.keys("rerankd:score:*")) >= 4
