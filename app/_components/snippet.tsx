import type { SnippetPart } from "@/lib/workspace/search";

/**
 * A search snippet: each part is a text node (React escapes it), matched parts wrapped in
 * <mark>. The snippet is never parsed as HTML, so stored `<script>` stays text.
 */
export function Snippet({ parts }: { parts: SnippetPart[] }) {
  return (
    <p className="snippet">
      {parts.map((part, index) => (part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>))}
    </p>
  );
}
