import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { Anchor, Badge, Button, Group, Kbd, Loader, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue, useHotkeys } from '@mantine/hooks';
import { useSession } from '../session.ts';
import { highlightParts, resultContext, typeLabel, useSearch, CATALOG_TYPE, DOCS_TYPE, type SearchResult } from '../search.ts';
import { ErrorAlert } from './ErrorAlert.tsx';

const DIALOG_LIMIT = 12;

export function SearchIcon({ size = 16 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <circle cx="11" cy="11" r="7" />
      <path d="M20 20l-3.5-3.5" />
    </svg>
  );
}

/**
 * A highlighted field of a search result: the matches inside `<mark>` tags are marked, everything
 * else is text (never markup). Without a highlight, the plain value is shown, cut to `max` characters.
 */
export function Highlighted({ result, field, max = 220 }: { result: SearchResult; field: 'title' | 'text'; max?: number }) {
  const highlighted = result.highlight?.fields[field];
  if (!highlighted) {
    const plain = result.document[field] ?? '';
    return <>{plain.length > max ? `${plain.slice(0, max)}…` : plain}</>;
  }
  const parts = highlightParts(highlighted, result.highlight?.preTag, result.highlight?.postTag);
  return (
    <>
      {parts.map((p, i) => (p.mark ? <mark key={i} className="pave-search-mark">{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </>
  );
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** Results in the order they are shown: grouped by type, the group of the best result first. */
function groupResults(results: SearchResult[]): Array<{ type: string; items: Array<{ result: SearchResult; index: number }> }> {
  const groups: Array<{ type: string; results: SearchResult[] }> = [];
  for (const r of results) {
    const group = groups.find((g) => g.type === r.type);
    if (group) group.results.push(r);
    else groups.push({ type: r.type, results: [r] });
  }
  let index = 0;
  return groups.map((g) => ({ type: g.type, items: g.results.map((result) => ({ result, index: index++ })) }));
}

/**
 * Search everything from anywhere in the portal: a button in the header and Ctrl-K (⌘K). Arrow
 * keys move through the results, Enter opens one, Escape closes.
 */
export function SearchDialog() {
  const permissions = useSession().data?.permissions ?? {};
  const allowed = permissions['search.query'] !== undefined && permissions['search.query'] !== 'DENY';
  const [opened, setOpened] = useState(false);
  const [term, setTerm] = useState('');
  const [debounced] = useDebouncedValue(term.trim(), 150);
  const [active, setActive] = useState(0);
  const navigate = useNavigate();
  const listId = useId();
  const listRef = useRef<HTMLDivElement>(null);

  const close = () => {
    setOpened(false);
    setTerm('');
  };
  const toggle = () => (opened ? close() : setOpened(true));
  // Works in text fields too: Ctrl-K is never text.
  useHotkeys(allowed ? [['mod+K', toggle]] : [], []);

  const search = useSearch({ term: debounced, pageLimit: DIALOG_LIMIT }, opened && allowed);
  const shown = debounced !== '' ? search.data : undefined;
  const groups = useMemo(() => groupResults(shown?.results ?? []), [shown]);
  const ordered = useMemo(() => groups.flatMap((g) => g.items.map((i) => i.result)), [groups]);

  // A new answer starts at its best result.
  useEffect(() => setActive(0), [shown]);
  useEffect(() => {
    listRef.current?.querySelector('[data-active="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const open = (location: string) => {
    close();
    navigate(location);
  };
  const seeAll = `/search?${new URLSearchParams({ term: term.trim() })}`;

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (ordered.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((a) => (a + step + ordered.length) % ordered.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const target = ordered[active];
      if (target) open(target.document.location);
      else if (term.trim()) open(seeAll);
    }
  };

  if (!allowed) return null;
  const optionId = (i: number) => `${listId}-option-${i}`;

  return (
    <>
      <Button
        variant="default"
        onClick={() => setOpened(true)}
        data-testid="open-search"
        leftSection={<SearchIcon />}
        rightSection={
          <Kbd size="xs" visibleFrom="md">
            {isMac ? '⌘K' : 'Ctrl K'}
          </Kbd>
        }
        aria-keyshortcuts={isMac ? 'Meta+K' : 'Control+K'}
        styles={{ label: { fontWeight: 400 } }}
      >
        Search
      </Button>
      <Modal opened={opened} onClose={close} title="Search Pave" size="lg" yOffset="8vh" returnFocus>
        <Stack gap="sm">
          <TextInput
            data-testid="search-input"
            data-autofocus
            aria-label="Search the catalog and docs"
            placeholder="Components, APIs, teams, docs…"
            value={term}
            onChange={(e) => setTerm(e.currentTarget.value)}
            onKeyDown={onKeyDown}
            leftSection={<SearchIcon />}
            rightSection={search.isFetching ? <Loader size="xs" aria-label="Searching" /> : null}
            role="combobox"
            aria-expanded={ordered.length > 0}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={ordered[active] ? optionId(active) : undefined}
            autoComplete="off"
            spellCheck={false}
          />
          {search.error && debounced && <ErrorAlert error={search.error} title="Search failed" />}
          <div id={listId} role="listbox" aria-label="Search results" ref={listRef} className="pave-search-list">
            {groups.map((g) => (
              <div key={g.type} role="group" aria-labelledby={`${listId}-${g.type}`}>
                <Text id={`${listId}-${g.type}`} size="xs" fw={700} tt="uppercase" c="dimmed" px={8} pt={6} pb={2}>
                  {typeLabel(g.type)}
                </Text>
                {g.items.map(({ result, index }) => (
                  <div
                    key={`${result.type}:${result.document.location}`}
                    id={optionId(index)}
                    role="option"
                    aria-selected={index === active}
                    data-active={index === active ? 'true' : 'false'}
                    data-testid="search-result"
                    data-type={result.type}
                    data-location={result.document.location}
                    className="pave-search-option"
                    onMouseMove={() => index !== active && setActive(index)}
                    onClick={() => open(result.document.location)}
                  >
                    <Group gap={6} wrap="nowrap" justify="space-between">
                      <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                        <Highlighted result={result} field="title" />
                      </Text>
                      <Badge size="xs" variant="light" color={result.type === DOCS_TYPE ? 'teal' : result.type === CATALOG_TYPE ? 'indigo' : 'gray'} style={{ flexShrink: 0 }}>
                        {result.type === CATALOG_TYPE ? (result.document.kind ?? 'Catalog') : typeLabel(result.type)}
                      </Badge>
                    </Group>
                    <Text size="xs" c="dimmed">
                      {resultContext(result)}
                    </Text>
                    {(result.highlight?.fields.text || result.document.text) && (
                      <Text size="xs" lineClamp={2} mt={2}>
                        <Highlighted result={result} field="text" max={160} />
                      </Text>
                    )}
                  </div>
                ))}
              </div>
            ))}
          </div>
          {shown && shown.results.length === 0 && (
            <Text size="sm" c="dimmed" ta="center" py="md" role="status">
              Nothing found for “{debounced}”.
            </Text>
          )}
          {!debounced && (
            <Text size="sm" c="dimmed" py="xs">
              Type to search components, APIs, groups, users and docs. ↑ ↓ to move, Enter to open, Esc to close.
            </Text>
          )}
          <Group justify="space-between" gap="xs">
            <Text size="xs" c="dimmed" aria-live="polite">
              {shown ? `${(shown.numberOfResults ?? shown.results.length).toLocaleString('en-US')} results` : ''}
            </Text>
            {term.trim() && (
              <Anchor component={Link} to={seeAll} size="sm" onClick={close} data-testid="search-see-all">
                See all results →
              </Anchor>
            )}
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
