"""README.md stays a front page: short, and every relative link and picture
it shows is a file of the repository."""
import os.path as osp
import re

MAX_LINES = 200
# [text](target) and ![alt](target), also <img src="target">
_LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
_SRC = re.compile(r'<img[^>]*\ssrc="([^"]+)"')


def relative_links(text):
    """``(line, target)`` of every link that is not a URL or an anchor."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in list(_LINK.finditer(line)) + list(_SRC.finditer(line)):
            target = match[1]
            if re.match(r'^[a-z][a-z0-9+.-]*:', target) or \
                    target.startswith('#'):
                continue
            found.append((number, target))
    return found


def test_relative_links_parser():
    text = ('[a](docs/x.md) ![p](docs/p.png "t") [u](https://x.org/a) '
            '[h](#top)\n<img src="docs/q.png" width="50%">')
    assert relative_links(text) == [(1, 'docs/x.md'), (1, 'docs/p.png'),
                                    (2, 'docs/q.png')]


def test_readme_is_a_front_page(repo_root):
    with open(osp.join(repo_root, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES, f'README.md has {len(lines)} lines'
    links = relative_links(text)
    assert links, 'the front page links into docs/'
    broken = [f'line {n}: {t}' for n, t in links
              if not osp.exists(osp.join(repo_root, t.split('#')[0]))]
    assert not broken, 'broken links in README.md:\n' + '\n'.join(broken)
