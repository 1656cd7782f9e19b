"""rerankd as a drop-in for RAG apps and client libraries (docs/integrations.md).

Every case runs against two real servers, one without an API key and one with, and with
the base URL a user configures given as the bare host and as ``{host}/v1`` (``target``).
Client libraries that can be installed are used as they are; the apps that cannot
(Dify's plugins, RAGFlow's adapters, Open WebUI) are replayed with the HTTP library each
uses (requests or httpx): their URL formation from the configured base, their headers
(``Bearer None``, an empty ``Bearer ``, none), their body with its real types, and their
parsing of the answer. Each replay names the source file it was read from. Scores must
equal the library's within 1e-5. RAGFlow's cohere==5.6.2 runs in a subprocess from
.venv-clients/cohere-5.6.2, which ./scripts/test installs.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import cohere
import httpx
import pytest
import requests
from yarl import URL

from tests.integration.server_harness import running_server

KEY = "rk-integration-test-key"
MODEL = "Qwen/Qwen3-Reranker-0.6B"  # the served name; contains "/"
XINFERENCE_UID = "qwen3-reranker"  # a model uid Dify accepts (no "/"), not the served name
QUERY = "What is the capital of China?"
DOCS = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies.",
    "北京是中华人民共和国的首都。",
    "Paris is the capital of France.",
]
ANY_KEY = "any-key"  # what a user types where an app insists on a key the server does not ask
COHERE_5_6_2 = Path(__file__).resolve().parents[2] / ".venv-clients" / "cohere-5.6.2"


@dataclass(frozen=True)
class Target:
    """One configuration: ``base`` is what the user enters, ``key`` the server's API key
    (None: the server has none, and the user leaves the key field empty)."""

    host: str
    base: str
    key: str | None


@pytest.fixture(scope="module")
def servers(reranker):
    with (
        running_server(reranker.backend, served_model_name=MODEL) as open_server,
        running_server(reranker.backend, served_model_name=MODEL, api_key=KEY) as keyed,
    ):
        yield {"no-key": open_server, "key": keyed}


@pytest.fixture(
    scope="module",
    params=[("no-key", ""), ("no-key", "/v1"), ("key", ""), ("key", "/v1")],
    ids=["no-key-host", "no-key-v1", "key-host", "key-v1"],
)
def target(request, servers) -> Target:
    auth, suffix = request.param
    host = servers[auth].url
    return Target(host=host, base=host + suffix, key=KEY if auth == "key" else None)


@pytest.fixture(scope="module")
def library(reranker) -> list[tuple[int, float]]:
    """The library's ranking of DOCS for QUERY, best first, as (index, score)."""
    return [(result.index, result.relevance_score) for result in reranker.rank(QUERY, DOCS)]


def assert_ranking(got: list[tuple[int, float]], library, top: int | None = None) -> None:
    """``got``, best first, is the library's top ``top`` (all by default), within 1e-5."""
    want = library[: top or len(library)]
    assert [index for index, _ in got] == [index for index, _ in want]
    for (_, score), (_, expected) in zip(got, want, strict=True):
        assert score == pytest.approx(expected, abs=1e-5)


def assert_scores_by_index(scores: list[float], library) -> None:
    """``scores[i]`` is document i's score (apps that map results back by index)."""
    by_index = dict(library)
    assert len(scores) == len(DOCS)
    for index, score in enumerate(scores):
        assert score == pytest.approx(by_index[index], abs=1e-5)


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def post(url: str, headers: dict[str, str], body: dict | None = None,
         data: str | None = None) -> requests.Response:
    """requests.post, as most of these apps call it (httpx refuses an empty "Bearer ")."""
    return requests.post(url, headers=headers, json=body, data=data, timeout=60)


# --------------------------------------------------------------------------------------
# Dify (langgenius/dify-official-plugins, models/<provider>/models/rerank/rerank.py)
# --------------------------------------------------------------------------------------


def dify_text_of(result: dict, docs: list[str]) -> str:
    """LocalAI and GPUStack (and the old in-tree Jina): a document key must hold an object."""
    index = result["index"]
    if "document" in result:
        return str(result["document"]["text"])
    return docs[index]


@pytest.mark.parametrize("top_n", [None, 2])
def test_dify_localai(target, library, top_n):
    # langgenius/dify-official-plugins models/localai/models/rerank/rerank.py
    # (LocalaiRerankModel._invoke): URL(server_url) / "rerank", data=dumps(...), top_n may
    # be null, and Authorization "Bearer {credentials.get('api_key')}": the provider
    # (models/localai/provider/localai.yaml) has no API-key field, so always "Bearer None".
    credentials = {"server_url": target.base}
    headers = {"Authorization": f"Bearer {credentials.get('api_key')}",
               "Content-Type": "application/json"}
    data = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": top_n}
    response = post(str(URL(target.base) / "rerank"), headers, data=json.dumps(data))
    if target.key:
        # It can send no key: it needs rerankd without --api-key.
        assert response.status_code == 401
        assert response.json()["detail"] == "invalid API key"
        return
    response.raise_for_status()
    got = []
    for result in response.json()["results"]:
        # The old in-tree version (langgenius/dify@d3980842 .../localai/rerank/rerank.py)
        # reads result["document"]["text"] unconditionally.
        assert "document" in result
        assert dify_text_of(result, DOCS) == DOCS[result["index"]]
        got.append((result["index"], result["relevance_score"]))
    assert_ranking(got, library, top=top_n)


def test_dify_openai_api_compatible(target, library):
    # langgenius/dify-official-plugins models/openai_api_compatible/models/rerank/rerank.py
    # (OpenAIRerankModel._invoke): f"{endpoint_url.rstrip('/')}/rerank", Bearer only with
    # a key, top_n = len(docs) when unset; reads .get("index") and .get("relevance_score").
    headers = {"Content-Type": "application/json", **bearer(target.key)}
    payload = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": len(DOCS)}
    response = post(f"{target.base.rstrip('/')}/rerank", headers, payload)
    response.raise_for_status()
    docs = [
        (item.get("index", 0), item.get("relevance_score", 0.0))
        for item in response.json().get("results", [])
    ]
    docs.sort(key=lambda pair: pair[1], reverse=True)
    assert_ranking(docs, library)


def test_dify_openai_api_compatible_older_plugin(target, library):
    # dify_plugin 0.7.4 dify_plugin/interfaces/model/openai_compatible/rerank.py
    # (OAICompatRerankModel), as older openai_api_compatible plugins and in-tree Dify
    # (langgenius/dify@c06e8f3a): URL(endpoint_url) / "rerank", "Bearer None" without a
    # key, top_n null, return_documents true; document read as a string or an object.
    headers = {"Authorization": f"Bearer {target.key}", "Content-Type": "application/json"}
    data = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": None,
            "return_documents": True}
    response = post(str(URL(target.base) / "rerank"), headers, data=json.dumps(data))
    response.raise_for_status()
    results = response.json()["results"]
    scores = [result["relevance_score"] for result in results]
    min_score, max_score = min(scores), max(scores)
    got = []
    for result in results:
        index = result["index"]
        text = DOCS[index]
        document = result.get("document", {})
        if document:
            if isinstance(document, dict):
                text = document.get("text", DOCS[index])
            elif isinstance(document, str):
                text = document
        assert text == DOCS[index]
        normalized = (result["relevance_score"] - min_score) / (max_score - min_score)
        assert 0.0 <= normalized <= 1.0
        got.append((index, result["relevance_score"]))
    assert_ranking(got, library)


@pytest.mark.parametrize("model", ["jina-reranker-v2-base-multilingual", "jina-reranker-m0"])
def test_dify_jina(target, library, model):
    # langgenius/dify-official-plugins models/jina/models/rerank/rerank.py
    # (JinaRerankModel._invoke): base_url.removesuffix("/") + "/rerank"; an api_key is
    # required; top_n null, return_documents false; documents become {"text": ...} objects
    # for jina-reranker-m0 (models/jina/models/shared/input.py transform_jina_input_text).
    api_key = target.key or ANY_KEY
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    documents = [{"text": doc} for doc in DOCS] if model == "jina-reranker-m0" else DOCS
    data = {"model": model, "query": QUERY, "documents": documents, "top_n": None,
            "return_documents": False}
    response = httpx.post(target.base.removesuffix("/") + "/rerank", headers=headers,
                          json=data)
    response.raise_for_status()
    results = response.json()["results"]
    assert all("document" not in result for result in results)
    assert_ranking([(r["index"], r["relevance_score"]) for r in results], library)

    # The old in-tree version (langgenius/dify@54e4e6ad .../jina/rerank/rerank.py): no
    # return_documents, and `if "document" in result: result["document"]["text"]`.
    old = {"model": model, "query": QUERY, "documents": DOCS, "top_n": None}
    response = httpx.post(target.base + "/rerank", headers=headers, json=old)
    response.raise_for_status()
    for result in response.json()["results"]:
        assert dify_text_of(result, DOCS) == DOCS[result["index"]]


def test_dify_huggingface_tei(target, library):
    # langgenius/dify-official-plugins models/huggingface_tei/models/helper.py
    # (TeiHelper._get_tei_extra_parameter, invoke_rerank) and models/rerank/rerank.py:
    # validation GETs URL(server_url) / "info"; model_type's first key must be "reranker".
    headers = {"Content-Type": "application/json", **bearer(target.key)}
    info = httpx.get(str(URL(target.base) / "info"), headers=headers, timeout=10)
    assert info.status_code == 200, info.text
    model_type = info.json().get("model_type", {})
    assert len(model_type.keys()) >= 1
    assert next(iter(model_type.keys())) == "reranker"
    context_size = info.json().get("max_input_length", 512)
    assert isinstance(context_size, int) and context_size > 0

    # invoke: f"{server_url.removesuffix('/')}/rerank" with TEI's body; a list, best first,
    # cut after top_n; result["text"] is required.
    for top_n in (None, 2):
        body = {"query": QUERY, "texts": DOCS, "return_text": True}
        response = httpx.post(f"{target.base.removesuffix('/')}/rerank", json=body,
                              headers=headers, timeout=60)
        response.raise_for_status()
        got = []
        for result in response.json():
            assert result["text"] == DOCS[result["index"]]
            got.append((result["index"], result["score"]))
            if top_n is not None and len(got) >= top_n:
                break
        assert_ranking(got, library, top=top_n)


def test_dify_xinference(target, library):
    # langgenius/dify-official-plugins models/xinference/models/rerank/rerank.py
    # (XinferenceRerankModel), with the real xinference-client (the plugin's own client).
    from xinference_client.client.restful.restful_client import (
        Client,
        RESTfulRerankModelHandle,
    )

    # validate_credentials: models/xinference/models/xinference_helper.py
    # validate_model_uid refuses "/", "?", "#": the served name cannot be the uid.
    def validate_model_uid(credentials: dict) -> bool:
        return not any(char in ["/", "?", "#"] for char in credentials.get("model_uid", ""))

    assert not validate_model_uid({"model_uid": MODEL})
    credentials = {"server_url": target.base, "model_uid": XINFERENCE_UID,
                   "api_key": target.key}
    assert validate_model_uid(credentials)
    credentials["server_url"] = credentials["server_url"].removesuffix("/")
    # GET {base}/v1/cluster/auth, then GET {base}/v1/models/{uid} (model_type "rerank").
    client = Client(base_url=credentials["server_url"], api_key=credentials.get("api_key"))
    assert isinstance(client.get_model(model_uid=credentials["model_uid"]),
                      RESTfulRerankModelHandle)

    # _invoke: the handle built directly, return_documents true, top_n null.
    api_key = credentials.get("api_key")
    auth_headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    handle = RESTfulRerankModelHandle(XINFERENCE_UID, credentials["server_url"], auth_headers)
    response = handle.rerank(documents=DOCS, query=QUERY, top_n=None, return_documents=True)
    got = []
    for result in response["results"]:
        page_content = (result["document"] if isinstance(result["document"], str)
                        else result["document"]["text"])
        assert page_content == DOCS[result["index"]]
        got.append((result["index"], float(result.get("relevance_score") or 0.0)))
    assert_ranking(got, library)


def test_dify_gpustack(target, library):
    # langgenius/dify-official-plugins models/gpustack/models/rerank/rerank.py
    # (GPUStackRerankModel._invoke): endpoint_url stripped of /v1, then URL / "v1" /
    # "rerank"; top_n = 3 when unset (`if top_n is None: top_n = 3`); "Bearer {api_key}",
    # a required field (models/gpustack/provider/gpustack.yaml).
    top_n = None
    if top_n is None:
        top_n = 3
    endpoint_url = target.base.rstrip("/").removesuffix("/v1").removesuffix("/v1-openai")
    headers = {"Authorization": f"Bearer {target.key or ANY_KEY}",
               "Content-Type": "application/json"}
    data = {"model": MODEL.strip(), "query": QUERY, "documents": DOCS, "top_n": top_n}
    response = post(str(URL(endpoint_url) / "v1" / "rerank"), headers,
                    data=json.dumps(data))
    response.raise_for_status()
    got = []
    for result in response.json()["results"]:
        assert dify_text_of(result, DOCS) == DOCS[result["index"]]
        got.append((result["index"], result["relevance_score"]))
    assert_ranking(got, library, top=3)


# cohere 5.6.2 is RAGFlow's pin; it joins URLs and parses answers as 5.2.6 does (the Dify
# cohere plugin's lock): urljoin(f"{base_url}/", "rerank"), and a string "document"
# breaks its parser. It runs in a subprocess, beside today's cohere in this venv.
COHERE_5_6_2_SCRIPT = r"""
import json, sys
import cohere
from cohere.core import RequestOptions

base, key, query, docs = json.loads(sys.argv[1])
out = {"version": cohere.__version__}

# infiniflow/ragflow rag/llm/rerank_model.py (CoHereRerank, factories Cohere and VLLM).
# An empty key becomes "x" for VLLM (api/apps/services/provider_api_service.py
# _normalize_provider_api_key); for Cohere it would give "Bearer ", which httpx refuses.
client = cohere.Client(api_key=key or "x", timeout=30.0, base_url=base)
res = client.rerank(model="rerank-v3.5", query=query, documents=docs, top_n=len(docs),
                    return_documents=False)
out["ragflow"] = [[d.index, d.relevance_score, d.document] for d in res.results]

# langgenius/dify-official-plugins models/cohere/models/rerank/rerank.py (CohereRerankModel)
client = cohere.Client(key or "any-key", base_url=base)
res = client.rerank(query=query, documents=docs, model="rerank-v3.5", top_n=None,
                    return_documents=True, request_options=RequestOptions(max_retries=0))
out["dify"] = [[r.index, r.relevance_score, r.document.text] for r in res.results]

try:
    client.rerank(query="", documents=docs, model="m",
                  request_options=RequestOptions(max_retries=0))
except cohere.core.ApiError as error:
    out["error"] = [type(error).__name__, error.status_code, str(error.body)]
print(json.dumps(out))
"""


@functools.cache
def run_cohere_5_6_2(base: str, key: str | None) -> dict:
    if not COHERE_5_6_2.is_dir():
        pytest.skip(f"cohere 5.6.2 (RAGFlow's pin) is not in {COHERE_5_6_2}; "
                    "./scripts/test installs it there")
    env = {**os.environ, "PYTHONPATH": str(COHERE_5_6_2)}
    done = subprocess.run(
        [sys.executable, "-c", COHERE_5_6_2_SCRIPT, json.dumps([base, key, QUERY, DOCS])],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["version"] == "5.6.2"
    return out


def test_dify_cohere_with_cohere_5_6(target, library):
    # Dify's cohere plugin pins cohere>=5.2.6,<5.3 (5.2.6 in its lock); replayed with 5.6.2.
    out = run_cohere_5_6_2(target.base, target.key)
    assert [text for _, _, text in out["dify"]] == [DOCS[i] for i, _, _ in out["dify"]]
    assert_ranking([(index, score) for index, score, _ in out["dify"]], library)
    _, status, body = out["error"]
    assert status == 422 and "query must not be empty" in body, out["error"]


# --------------------------------------------------------------------------------------
# RAGFlow (infiniflow/ragflow rag/llm/rerank_model.py)
# --------------------------------------------------------------------------------------


def ragflow_rank(res: dict, n: int) -> list[float]:
    """``rank[d["index"]] = d["relevance_score"]``, then Base._normalize_rank, which keeps
    scores already in [0, 1] as they are."""
    rank = [0.0] * n
    for d in res.get("results", []):
        rank[d["index"]] = d["relevance_score"]
    assert all(0.0 <= score <= 1.0 for score in rank)
    return rank


def test_ragflow_jina(target, library, reranker):
    # infiniflow/ragflow rag/llm/rerank_model.py (JinaRerank): the base URL *is* the
    # endpoint; "Bearer {key}" ("Bearer " without one); top_n = len(texts); the token count
    # comes only from the answer (common/token_utils.py total_token_count_from_response).
    url = f"{target.base}/rerank"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key or ''}"}

    def similarity(query: str, texts: list[str]) -> tuple[list[float], int]:
        data = {"model": "jina-reranker-v2-base-multilingual", "query": query,
                "documents": texts, "top_n": len(texts)}
        response = post(url, headers, data)
        response.raise_for_status()
        res = response.json()
        total = res["usage"]["total_tokens"] if "usage" in res else 0
        return ragflow_rank(res, len(texts)), total

    # The check when a model is added (api/apps/services/provider_api_service.py):
    # fails if len(arr) == 0 or tc == 0.
    arr, tc = similarity("What's the weather?", ["Is it sunny today?"])
    assert len(arr) == 1 and tc > 0
    expected = reranker.rank("What's the weather?", ["Is it sunny today?"])[0].relevance_score
    assert arr[0] == pytest.approx(expected, abs=1e-5)

    rank, tc = similarity(QUERY, DOCS)
    assert tc > 0
    assert_scores_by_index(rank, library)


def test_ragflow_xinference(target, library):
    # infiniflow/ragflow rag/llm/rerank_model.py (XInferenceRerank): the URL always resolves
    # to the host's /v1/rerank; return_documents and return_len are the *strings* "true";
    # Authorization only for a key other than "x".
    base_url = target.base
    if base_url.find("/v1") == -1:
        base_url = urljoin(base_url, "/v1/rerank")
    if base_url.find("/rerank") == -1:
        base_url = urljoin(base_url, "/v1/rerank")
    assert base_url == f"{target.host}/v1/rerank"
    key = target.key or "x"
    headers = {"Content-Type": "application/json", "accept": "application/json"}
    if key and key != "x":
        headers["Authorization"] = f"Bearer {key}"
    data = {"model": XINFERENCE_UID, "query": QUERY, "return_documents": "true",
            "return_len": "true", "documents": DOCS}
    response = post(base_url, headers, data)
    response.raise_for_status()
    assert_scores_by_index(ragflow_rank(response.json(), len(DOCS)), library)


def test_ragflow_localai(target, library):
    # infiniflow/ragflow rag/llm/rerank_model.py (LocalAIRerank): urljoin(base, "/rerank"),
    # which drops a /v1; the "___LocalAI" suffix of old model names is cut.
    base_url = target.base
    url = urljoin(base_url, "/rerank") if base_url.find("/rerank") == -1 else base_url
    assert url == f"{target.host}/rerank"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key or ''}"}
    data = {"model": f"{MODEL}___LocalAI".split("___")[0], "query": QUERY, "documents": DOCS,
            "top_n": len(DOCS)}
    response = post(url, headers, data)
    response.raise_for_status()
    assert_scores_by_index(ragflow_rank(response.json(), len(DOCS)), library)


def test_ragflow_openai_api_compatible(target, library):
    # infiniflow/ragflow rag/llm/rerank_model.py (OpenAI_APIRerank), current code:
    # urljoin(f"{base.rstrip('/')}/", "rerank"), so {host}/v1 -> /v1/rerank.
    normalized = (target.base or "").strip()
    if "/rerank" in normalized:
        current = normalized.rstrip("/")
    else:
        current = urljoin(f"{normalized.rstrip('/')}/", "rerank").rstrip("/")
    # Before commit 48591cb1e7 (2026-02): urljoin(base_url, "/rerank"), always root /rerank.
    older = urljoin(target.base, "/rerank")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key or ''}"}
    data = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": len(DOCS)}
    for url in (current, older):
        response = post(url, headers, data)
        response.raise_for_status()
        assert_scores_by_index(ragflow_rank(response.json(), len(DOCS)), library)


def test_ragflow_gpustack(target, library):
    # infiniflow/ragflow rag/llm/rerank_model.py (GPUStackRerank): URL(base) / "v1" /
    # "rerank", so {host}/v1 gives /v1/v1/rerank.
    url = str(URL(target.base) / "v1" / "rerank")
    headers = {"accept": "application/json", "content-type": "application/json",
               "authorization": f"Bearer {target.key or ''}"}
    payload = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": len(DOCS)}
    response = post(url, headers, payload)
    response.raise_for_status()
    assert_scores_by_index(ragflow_rank(response.json(), len(DOCS)), library)


@pytest.mark.parametrize("scheme", ["http://", ""])
def test_ragflow_huggingface_tei(target, library, scheme):
    # infiniflow/ragflow rag/llm/rerank_model.py (HuggingfaceRerank.post): base.rstrip("/")
    # ("http://" put in front of a base without a scheme) + "/rerank", TEI's body in
    # batches of 8, and *no* Authorization header at all.
    base_url = target.base.removeprefix("http://")
    base_url = scheme + base_url
    base_url = base_url.rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        base_url = f"http://{base_url}"
    endpoint = base_url if base_url.endswith("/rerank") else f"{base_url}/rerank"
    scores = [0.0] * len(DOCS)
    batch_size = 8
    for i in range(0, len(DOCS), batch_size):
        response = post(
            endpoint, {"Content-Type": "application/json"},
            {"query": QUERY, "texts": DOCS[i:i + batch_size], "raw_scores": False,
             "truncate": True},
        )
        if target.key:
            # The provider has no key to send: it needs rerankd without --api-key.
            assert response.status_code == 401
            assert response.json()["detail"].startswith("missing API key")
            return
        response.raise_for_status()
        for o in response.json():
            scores[o["index"] + i] = o["score"]
    assert_scores_by_index(scores, library)


def test_ragflow_cohere_with_cohere_5_6_2(target, library):
    # infiniflow/ragflow rag/llm/rerank_model.py (CoHereRerank, also the "VLLM" factory),
    # with RAGFlow's pinned cohere==5.6.2 (pyproject.toml): a bare host's /rerank, or
    # {host}/v1/rerank; return_documents false.
    out = run_cohere_5_6_2(target.base, target.key)
    rank = [0.0] * len(DOCS)
    for index, score, document in out["ragflow"]:
        assert document is None
        rank[index] = score
    assert_scores_by_index(rank, library)


# --------------------------------------------------------------------------------------
# Open WebUI (open-webui/open-webui backend/open_webui/retrieval/models/external.py)
# --------------------------------------------------------------------------------------


def test_open_webui_external_reranker(target, library):
    # open-webui backend/open_webui/retrieval/models/external.py (ExternalReranker.predict):
    # the configured URL is posted to as given (a full endpoint); "Bearer {api_key}" is sent
    # even with an empty key; top_n = len(docs); results sorted by index, all N needed.
    url = f"{target.base}/rerank"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key or ''}"}
    payload = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": len(DOCS)}
    r = post(f"{url}", headers, payload)
    r.raise_for_status()
    data = r.json()
    assert "results" in data
    sorted_results = sorted(data["results"], key=lambda x: x["index"])
    assert [result["index"] for result in sorted_results] == list(range(len(DOCS)))
    assert_scores_by_index([result["relevance_score"] for result in sorted_results], library)


def test_open_webui_cohere_reranker(target, library):
    # open-webui backend/open_webui/retrieval/models/cohere.py (CohereReranking.predict,
    # commit 585a1f65; not wired into the newest routers/retrieval.py get_rf):
    # f"{url}/v2/rerank", scores read in the answer's order (best first), not by index.
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key or ''}"}
    json_data = {"model": "rerank-v3.5", "query": QUERY, "documents": DOCS, "top_n": len(DOCS)}
    r = post(f"{target.base}/v2/rerank", headers, json_data)
    r.raise_for_status()
    data = r.json()
    assert "results" in data
    scores = [result["relevance_score"] for result in data["results"]]
    assert scores == pytest.approx([score for _, score in library], abs=1e-5)


# --------------------------------------------------------------------------------------
# LangChain
# --------------------------------------------------------------------------------------


def test_langchain_cohere_rerank(target, library):
    # langchain-cohere langchain_cohere/rerank.py (CohereRerank): ClientV2(base_url=...),
    # so {base}/v2/rerank; max_tokens_per_doc sent as null.
    from langchain_cohere import CohereRerank
    from langchain_core.documents import Document

    reranker = CohereRerank(cohere_api_key=target.key or ANY_KEY, base_url=target.base,
                            model="rerank-v3.5", top_n=3)
    compressed = reranker.compress_documents([Document(page_content=d) for d in DOCS], QUERY)
    assert_ranking(
        [(DOCS.index(doc.page_content), doc.metadata["relevance_score"]) for doc in compressed],
        library, top=3,
    )
    everything = reranker.rerank(DOCS, QUERY, top_n=None)  # top_n null: all
    assert_ranking([(r["index"], r["relevance_score"]) for r in everything], library)


def test_langchain_community_jina_rerank(target, library, monkeypatch):
    # langchain-community langchain_community/document_compressors/jina_rerank.py
    # (JinaRerank): the URL is the module constant JINA_API_URL, read at call time.
    from langchain_community.document_compressors import jina_rerank
    from langchain_core.documents import Document

    monkeypatch.setattr(jina_rerank, "JINA_API_URL", f"{target.base}/rerank")
    reranker = jina_rerank.JinaRerank(jina_api_key=target.key or ANY_KEY, top_n=3)
    compressed = reranker.compress_documents([Document(page_content=d) for d in DOCS], QUERY)
    assert_ranking(
        [(DOCS.index(doc.page_content), doc.metadata["relevance_score"]) for doc in compressed],
        library, top=3,
    )
    # Errors: `if "results" not in resp: raise RuntimeError(resp["detail"])`.
    with pytest.raises(RuntimeError, match="query must not be empty"):
        reranker.rerank(DOCS, "")


# --------------------------------------------------------------------------------------
# LlamaIndex
# --------------------------------------------------------------------------------------


def nodes():
    from llama_index.core.schema import NodeWithScore, TextNode

    return [NodeWithScore(node=TextNode(text=doc)) for doc in DOCS]


def test_llama_index_cohere_rerank(target, library):
    # llama-index-postprocessor-cohere-rerank llama_index/postprocessor/cohere_rerank/base.py
    # (CohereRerank): ClientV2(api_key, base_url), so {base}/v2/rerank.
    from llama_index.postprocessor.cohere_rerank import CohereRerank

    postprocessor = CohereRerank(api_key=target.key or ANY_KEY, base_url=target.base,
                                 model="rerank-v3.5", top_n=2)
    ranked = postprocessor.postprocess_nodes(nodes(), query_str=QUERY)
    assert_ranking([(DOCS.index(n.node.get_content()), n.score) for n in ranked], library, 2)


def test_llama_index_jina_rerank(target, library):
    # llama-index-postprocessor-jinaai-rerank llama_index/postprocessor/jinaai_rerank/base.py
    # (JinaRerank): f"{base_url}/rerank", "Bearer {api_key}" ("Bearer " without one).
    from llama_index.postprocessor.jinaai_rerank import JinaRerank

    postprocessor = JinaRerank(api_key=target.key or "", base_url=target.base, top_n=2)
    ranked = postprocessor.postprocess_nodes(nodes(), query_str=QUERY)
    assert_ranking([(DOCS.index(n.node.get_content()), n.score) for n in ranked], library, 2)
    # Errors: `if "results" not in resp: raise RuntimeError(resp["detail"])`.
    with pytest.raises(RuntimeError, match="query must not be empty"):
        postprocessor.postprocess_nodes(nodes(), query_str="")


# --------------------------------------------------------------------------------------
# Haystack
# --------------------------------------------------------------------------------------


def test_haystack_huggingface_tei_ranker(target, library):
    # huggingface-api-haystack haystack_integrations/components/rankers/huggingface_api/
    # ranker.py (HuggingFaceTEIRanker, formerly haystack-ai haystack/components/rankers/
    # hugging_face_tei.py): urljoin(url, "/rerank") drops any /v1; TEI's body; the answer
    # must be a list, best first.
    from haystack import Document
    from haystack.utils import Secret
    from haystack_integrations.components.rankers.huggingface_api import (
        HuggingFaceTEIRanker,
        TruncationDirection,
    )

    token = Secret.from_token(target.key) if target.key else None
    ranker = HuggingFaceTEIRanker(url=target.base, top_k=3, token=token)
    ranked = ranker.run(query=QUERY, documents=[Document(content=d) for d in DOCS])["documents"]
    assert_ranking([(DOCS.index(doc.content), doc.score) for doc in ranked], library, 3)
    # truncation_direction adds "truncate": true and "truncation_direction": "Right".
    documents = [Document(content=d) for d in DOCS]
    ranked = ranker.run(query=QUERY, documents=documents,
                        truncation_direction=TruncationDirection.RIGHT)["documents"]
    assert_ranking([(DOCS.index(doc.content), doc.score) for doc in ranked], library, 3)
    # An error comes back as an HTTPStatusError, raised as RuntimeError with the body. Left
    # truncation is refused: the Qwen3 prompt's suffix must stay last.
    with pytest.raises(RuntimeError, match="query must not be empty"):
        ranker.run(query="", documents=documents)
    with pytest.raises(RuntimeError, match="truncation_direction"):
        ranker.run(query=QUERY, documents=documents,
                   truncation_direction=TruncationDirection.LEFT)


def test_haystack_cohere_ranker(target, library):
    # cohere-haystack haystack_integrations/components/rankers/cohere/ranker.py
    # (CohereRanker): ClientV2(base_url=api_base_url), so {base}/v2/rerank;
    # max_tokens_per_doc 4096.
    from haystack import Document
    from haystack.utils import Secret
    from haystack_integrations.components.rankers.cohere import CohereRanker

    ranker = CohereRanker(api_key=Secret.from_token(target.key or ANY_KEY),
                          api_base_url=target.base, top_k=3)
    ranked = ranker.run(query=QUERY, documents=[Document(content=d) for d in DOCS])["documents"]
    assert_ranking([(DOCS.index(doc.content), doc.score) for doc in ranked], library, 3)


# --------------------------------------------------------------------------------------
# xinference-client and the cohere SDK
# --------------------------------------------------------------------------------------


def test_xinference_client(target, library):
    # xinference-client xinference_client/client/restful/restful_client.py: Client()
    # GETs {base}/v1/cluster/auth (and sends the key only if it answers auth: true),
    # get_model GETs {base}/v1/models/{uid}; rerank posts "kwargs": "{}" as a string.
    from xinference_client.client.restful.restful_client import (
        Client,
        RESTfulRerankModelHandle,
    )

    client = Client(target.base, api_key=target.key)
    assert client._cluster_authed == bool(target.key)
    model = client.get_model(XINFERENCE_UID)
    assert isinstance(model, RESTfulRerankModelHandle)

    answer = model.rerank(DOCS, QUERY)  # top_n, return_documents, return_len: null
    assert [r["document"]["text"] for r in answer["results"]] == [
        DOCS[r["index"]] for r in answer["results"]
    ]
    assert_ranking([(r["index"], r["relevance_score"]) for r in answer["results"]], library)

    # Extra keyword arguments go into the body and into "kwargs" (a JSON string).
    answer = model.rerank(DOCS, QUERY, top_n=2, return_documents=False, return_len=True,
                          max_chunks_per_doc=None, user="someone")
    assert all("document" not in r for r in answer["results"])
    assert_ranking([(r["index"], r["relevance_score"]) for r in answer["results"]], library, 2)

    # Errors: RuntimeError(f"... detail: {response.json()['detail']}").
    with pytest.raises(RuntimeError, match="query must not be empty"):
        model.rerank(DOCS, "")


def test_xinference_client_lists_the_served_model(target):
    # list_models GETs f"{base}/v1/models" and reads response.json()["data"]: with a base
    # that ends in /v1 that is /v1/v1/models (it once redirected to a single model card).
    from xinference_client.client.restful.restful_client import Client

    client = Client(target.base, api_key=target.key)
    assert MODEL in client.list_models()


def test_xinference_client_takes_the_served_name_as_uid(target, library):
    # The name /v1/models lists (here "Qwen/Qwen3-Reranker-0.6B") is the uid a user of
    # xinference-client would copy: get_model GETs f"{base}/v1/models/{model_uid}" with the
    # "/" unquoted. Any uid describes the one served model; this one must too.
    from xinference_client.client.restful.restful_client import Client

    client = Client(target.base, api_key=target.key)
    listed = httpx.get(f"{target.host}/v1/models", headers=bearer(target.key)).json()
    uid = listed["data"][0]["id"]
    assert uid == MODEL
    model = client.get_model(uid)
    answer = model.rerank(DOCS, QUERY)
    assert_ranking([(r["index"], r["relevance_score"]) for r in answer["results"]], library)


def test_cohere_sdk_v1(target, library):
    # cohere-python 5.21 Client: f"{base_url.rstrip('/')}/v1/rerank", so {host}/v1 gives
    # /v1/v1/rerank; documents returned by default on v1.
    client = cohere.Client(api_key=target.key or ANY_KEY, base_url=target.base)
    response = client.rerank(model="rerank-english-v3.0", query=QUERY, documents=DOCS,
                             top_n=None)
    assert [r.document.text for r in response.results] == [DOCS[r.index] for r in response.results]
    assert_ranking([(r.index, r.relevance_score) for r in response.results], library)
    response = client.rerank(model="rerank-english-v3.0", query=QUERY, documents=DOCS,
                             top_n=2, return_documents=False)
    assert all(r.document is None for r in response.results)
    assert_ranking([(r.index, r.relevance_score) for r in response.results], library, 2)
    # Document objects: "text" is scored, and every field comes back.
    objects = [{"text": doc, "id": f"doc-{i}"} for i, doc in enumerate(DOCS)]
    response = client.rerank(model="rerank-english-v3.0", query=QUERY, documents=objects)
    assert [r.document.id for r in response.results] == [f"doc-{r.index}" for r in response.results]
    assert_ranking([(r.index, r.relevance_score) for r in response.results], library)


def test_cohere_sdk_v2(target, library):
    # cohere-python 5.21 ClientV2: {base}/v2/rerank ({host}/v1 gives /v1/v2/rerank).
    client = cohere.ClientV2(api_key=target.key or ANY_KEY, base_url=target.base)
    response = client.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=3)
    assert_ranking([(r.index, r.relevance_score) for r in response.results], library, 3)
    assert response.meta.api_version.version == "2"
    with pytest.raises(cohere.errors.UnprocessableEntityError) as raised:
        client.rerank(model="rerank-v3.5", query="", documents=DOCS)
    assert "query must not be empty" in str(raised.value.body)


# --------------------------------------------------------------------------------------
# The answer's shape: the seed contract, return_documents, top_n, the key
# --------------------------------------------------------------------------------------


def test_the_seed_request_keeps_its_shape_only_on_bare_rerank(target, library):
    # {query, documents: [str]} alone is the seed contract on /rerank: document a string.
    # Any Cohere/Jina field, or another path, gets document {"text"}.
    headers = bearer(target.key)
    seed = httpx.post(f"{target.base}/rerank", headers=headers,
                      json={"query": QUERY, "documents": DOCS}, timeout=60).json()
    assert_ranking([(r["index"], r["relevance_score"]) for r in seed["results"]], library)
    on_bare_rerank = target.base == target.host
    for result in seed["results"]:
        expected = DOCS[result["index"]]
        assert result["document"] == (expected if on_bare_rerank else {"text": expected})
    assert seed["usage"]["total_tokens"] > 0
    for extra in ({"model": MODEL}, {"top_n": None}, {"return_documents": True}):
        body = httpx.post(f"{target.base}/rerank", headers=headers,
                          json={"query": QUERY, "documents": DOCS, **extra}, timeout=60).json()
        assert all(r["document"] == {"text": DOCS[r["index"]]} for r in body["results"]), extra


@pytest.mark.parametrize("path", ["/rerank", "/v1/rerank", "/v2/rerank"])
def test_return_documents_false_omits_the_document_key(target, path):
    body = {"model": MODEL, "query": QUERY, "documents": DOCS, "return_documents": False}
    response = httpx.post(target.host + path, headers=bearer(target.key), json=body, timeout=60)
    assert response.status_code == 200, response.text
    assert all("document" not in result for result in response.json()["results"])


@pytest.mark.parametrize("top_n", [None, 0])
@pytest.mark.parametrize("path", ["/rerank", "/v1/rerank", "/v2/rerank", "/v1/v1/rerank"])
def test_top_n_null_or_zero_returns_all(target, library, path, top_n):
    body = {"model": MODEL, "query": QUERY, "documents": DOCS, "top_n": top_n}
    response = httpx.post(target.host + path, headers=bearer(target.key), json=body, timeout=60)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert_ranking([(r["index"], r["relevance_score"]) for r in results], library)


def test_the_keyed_server_refuses_an_app_without_its_key(servers):
    # Dify LocalAI/GPUStack with an empty key field send "Bearer None"; Open WebUI and
    # RAGFlow "Bearer ". A keyed server refuses both, with a message Jina clients read.
    url = servers["key"].url
    for authorization in ("Bearer None", "Bearer ", f"Bearer {KEY}x"):
        response = post(f"{url}/rerank", {"Authorization": authorization},
                        {"model": MODEL, "query": QUERY, "documents": DOCS})
        assert response.status_code == 401
        assert response.json()["detail"] == "invalid API key"
    assert httpx.get(f"{url}/v1/cluster/auth").json() == {"auth": True}
    assert httpx.get(f"{servers['no-key'].url}/v1/cluster/auth").json() == {"auth": False}


def test_a_wrong_key_reads_as_the_server_message(servers, monkeypatch):
    # The clients that read `detail` show rerankd's message, not a KeyError.
    from langchain_community.document_compressors import jina_rerank
    from xinference_client.client.restful.restful_client import Client

    url = servers["key"].url
    with pytest.raises(RuntimeError, match="invalid API key"):
        Client(url, api_key="wrong").get_model(XINFERENCE_UID)
    monkeypatch.setattr(jina_rerank, "JINA_API_URL", f"{url}/v1/rerank")
    with pytest.raises(RuntimeError, match="invalid API key"):
        jina_rerank.JinaRerank(jina_api_key="wrong").rerank(DOCS, QUERY)
    with pytest.raises(cohere.errors.UnauthorizedError) as raised:
        cohere.ClientV2(api_key="wrong", base_url=url).rerank(
            model="rerank-v3.5", query=QUERY, documents=DOCS)
    assert "invalid API key" in str(raised.value.body)
