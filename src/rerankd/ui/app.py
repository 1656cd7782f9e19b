"""The Gradio page: query, documents (pasted or uploaded), instruction presets, ranking."""

from __future__ import annotations

import html
import os
from typing import Any

from rerankd.errors import InvalidInputError
from rerankd.extras import require
from rerankd.families.qwen3 import DEFAULT_INSTRUCTION
from rerankd.options import LongDocs, RankOptions
from rerankd.ranking import RankRequest
from rerankd.ui.clients import RankingClient, RankingFailed
from rerankd.ui.documents import (
    as_lines,
    csv_columns,
    default_column,
    documents_from_text,
    read_upload,
)
from rerankd.ui.render import TABLE_CSS, results_table, write_downloads

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home

CUSTOM = "Custom / 自定义"
INSTRUCTION_PRESETS = {
    "Web search / 网页搜索": DEFAULT_INSTRUCTION,
    "Question answering / 问答": "Given a question, retrieve passages that answer the question",
    "Code search / 代码搜索": "Given a code search query, retrieve code snippets that answer it",
    CUSTOM: "",
}
LONG_DOCS: dict[str, LongDocs | None] = {
    "Server default 服务器默认": None,
    "Cut the tail 截断": "truncate",
    "Chunks, best passage 分块取最佳段落": "chunk",
}
# A Chinese RAG question and three candidate passages: one answers it, one is related,
# one is off topic, so a first click shows what reranking does.
EXAMPLE_QUERY = "什么是检索增强生成（RAG）？"
EXAMPLE_DOCUMENTS = [
    "检索增强生成（RAG）先从知识库中检索与问题相关的文档，再把这些文档作为上下文交给大语言模型生成答案。",
    "向量数据库用嵌入向量存储文本，支持按语义相似度快速查找。",
    "今天北京天气晴朗，最高气温二十五度。",
]


def instruction_for(preset: str | None, custom: str | None) -> str | None:
    if preset == CUSTOM:
        return (custom or "").strip() or None
    return INSTRUCTION_PRESETS.get(preset or "") or None


def build_ui(client: RankingClient) -> Any:
    """The Blocks app over ``client`` (the engine in process, or a server over HTTP)."""
    gr = require("gradio", "the web UI")

    async def banner_markdown() -> str:
        banner = await client.banner()
        text = f"**Model 模型:** `{banner.model}`"
        if banner.runs_on:
            text += f" ({banner.runs_on})"
        if banner.notice:
            text += f"\n\n<div class='rerankd-banner'>⚠️ {banner.notice}</div>"
        return text

    async def rank(
        query: str | None, documents_text: str | None, preset: str | None,
        custom: str | None, top_n: float | None, max_length: float | None,
        long_docs: str | None,
    ) -> tuple[str, str, str, Any, Any]:
        """Also the page's API (/gradio_api/call/.../rank): any argument may be missing."""
        documents = documents_from_text(documents_text or "")
        try:
            if not (query or "").strip():
                raise RankingFailed("Enter a query. 请输入查询。")
            if not documents:
                raise RankingFailed("Enter at least one document, one per line. 请输入文档。")
            if (top_n or 0) < 0 or (max_length or 0) < 0:
                raise RankingFailed("Top N and max length cannot be negative. 不能为负数。")
            if long_docs is not None and long_docs not in LONG_DOCS:
                raise RankingFailed(f"Long documents: choose one of {', '.join(LONG_DOCS)}.")
            request = RankRequest(
                query=query or "", documents=documents, top_n=int(top_n) if top_n else None,
                options=RankOptions(
                    instruction=instruction_for(preset, custom),
                    max_length=int(max_length) if max_length else None,
                    long_docs=LONG_DOCS.get(long_docs or ""),
                ),
            )
            ranking = await client.rank(request)
        except RankingFailed as failure:
            error = f"<div class='rerankd-error'>{html.escape(str(failure))}</div>"
            return "", "", error, None, None
        json_path, csv_path = write_downloads(ranking.results)
        stats = (
            f"{len(ranking.results)} of {len(documents)} documents · "
            f"**{ranking.latency_s * 1000:.0f} ms** · {ranking.prompt_tokens} tokens scored · "
            f"`{ranking.model}`"
        )
        return results_table(ranking.results), stats, "", json_path, csv_path

    def load_file(path: str | None) -> tuple[Any, Any, str]:
        if not path:
            return gr.update(), gr.update(visible=False), ""
        try:
            if str(path).lower().endswith(".csv"):
                columns = csv_columns(path)
                column = default_column(columns)
                documents = read_upload(path, column)
                dropdown = gr.update(choices=columns, value=column, visible=True)
            else:
                documents = read_upload(path)
                dropdown = gr.update(visible=False)
        except (InvalidInputError, OSError, UnicodeDecodeError) as error:
            return gr.update(), gr.update(visible=False), (
                f"<div class='rerankd-error'>Cannot read the file: {html.escape(str(error))}</div>"
            )
        return as_lines(documents), dropdown, ""

    def change_column(path: str | None, column: str | None) -> tuple[Any, str]:
        if not path or not column:
            return gr.update(), ""
        try:
            return as_lines(read_upload(path, column)), ""
        except InvalidInputError as error:
            return gr.update(), f"<div class='rerankd-error'>{html.escape(str(error))}</div>"

    with gr.Blocks(title="rerankd") as page:
        gr.Markdown("# rerankd · Reranker 重排序")
        banner = gr.Markdown(elem_id="banner")
        with gr.Row():
            with gr.Column(scale=1):
                query = gr.Textbox(label="Query 查询", value=EXAMPLE_QUERY, lines=2,
                                   elem_id="query")
                documents = gr.Textbox(
                    label="Documents, one per line 文档（每行一个）",
                    value="\n".join(EXAMPLE_DOCUMENTS), lines=10, elem_id="documents",
                )
                upload = gr.File(
                    label="…or upload .txt / .md / .jsonl / .csv 上传文件",
                    file_types=[".txt", ".md", ".jsonl", ".csv"], type="filepath",
                    elem_id="upload",
                )
                column = gr.Dropdown(label="CSV text column 文本列", visible=False,
                                     interactive=True)
                with gr.Row():
                    preset = gr.Dropdown(
                        label="Instruction 指令", choices=list(INSTRUCTION_PRESETS),
                        value=next(iter(INSTRUCTION_PRESETS)),
                    )
                    custom = gr.Textbox(label="Custom instruction 自定义指令 (English)",
                                        value="", placeholder="Given a ..., retrieve ...")
                with gr.Row():
                    top_n = gr.Number(label="Top N 返回数量 (0 = all)", value=0, precision=0,
                                      elem_id="top-n")
                    max_length = gr.Number(label="Max length 最大长度 (0 = model's)", value=0,
                                           precision=0, elem_id="max-length")
                long_docs = gr.Radio(
                    label="Long documents 长文档", choices=list(LONG_DOCS),
                    value=next(iter(LONG_DOCS)), elem_id="long-docs",
                )
                button = gr.Button("Rerank 重排序", variant="primary", elem_id="rank-button")
            with gr.Column(scale=2):
                error = gr.HTML(elem_id="error")
                stats = gr.Markdown(elem_id="stats")
                table = gr.HTML(elem_id="results")
                with gr.Row():
                    json_file = gr.File(label="Download JSON 下载", elem_id="download-json")
                    csv_file = gr.File(label="Download CSV 下载", elem_id="download-csv")

        page.load(banner_markdown, outputs=banner)
        button.click(
            rank, inputs=[query, documents, preset, custom, top_n, max_length, long_docs],
            outputs=[table, stats, error, json_file, csv_file],
        )
        upload.change(load_file, inputs=upload, outputs=[documents, column, error])
        column.change(change_column, inputs=[upload, column], outputs=[documents, error])
    return page


UI_PATH = "/ui"
LOGIN_PATH = UI_PATH + "/login"


def mount_ui(app: Any, client: RankingClient, api_key: str | None, path: str = UI_PATH) -> Any:
    """Serve the page at ``path`` of the API app. With an API key, the page is behind a
    login form of rerankd's own (see login.py), checked before Gradio sees a request."""
    gr = require("gradio", "the web UI")

    from rerankd.ui.api_errors import GradioCallErrors

    if api_key:
        from rerankd.ui.login import login_router

        app.include_router(login_router(api_key, path))
    app = gr.mount_gradio_app(
        app, build_ui(client), path=path, css=TABLE_CSS, footer_links=[], ssr_mode=False,
    )
    app.add_middleware(GradioCallErrors, ui_path=path)
    return app


def launch_standalone(client: RankingClient, host: str, port: int) -> None:
    build_ui(client).launch(
        server_name=host, server_port=port, css=TABLE_CSS, footer_links=[], ssr_mode=False,
        show_error=False,
    )
