"""Test texts: English, Chinese, mixed scripts, code, near-empty and very long documents."""

QUERIES = [
    ("What is the capital of China?", None),
    ("如何在 Python 中读取文件？", "Given a code search query, retrieve code that answers it"),
    ("explain gravity", "Given a question, retrieve passages that answer the question"),
]

DOCUMENTS = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies towards each other.",
    "北京是中华人民共和国的首都，也是全国的政治和文化中心。",
    "使用 open() 函数可以在 Python 中读取文件：with open('a.txt') as f: data = f.read()",
    "Tokyo (東京) est la capitale du Japon; Москва — столица России.",
    "def read_file(path):\n    with open(path, encoding='utf-8') as handle:\n"
    "        return handle.read()\n",
    "SELECT name FROM users WHERE id = 42; -- 查询用户",
    "a",
    "",
    " ",
    "🙂 emoji and ümlauts: naïve café",
    "Newton's law of universal gravitation states that every particle attracts every other.",
    # Longer than a small max_length, so truncation is exercised.
    "Reranking improves retrieval. " * 120,
    "长文档测试。" * 200,
]
