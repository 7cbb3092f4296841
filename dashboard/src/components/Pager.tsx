import { Group, Pagination, Select, Text } from '@mantine/core';

interface Props {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  onPageSize?: (size: number) => void;
  label: string;
}

export const PAGE_SIZES = ['10', '25', '50', '100'];

export function Pager({ page, pageSize, total, onPage, onPageSize, label }: Props) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <Group justify="space-between" mt="md" wrap="wrap">
      <Text size="sm" c="dimmed" aria-live="polite">
        {total === 0 ? `No ${label}` : `${first}–${last} of ${total.toLocaleString()} ${label}`}
      </Text>
      <Group gap="sm">
        {onPageSize && (
          <Select
            aria-label="Rows per page"
            data={PAGE_SIZES}
            value={String(pageSize)}
            onChange={(value) => value && onPageSize(Number(value))}
            w={90}
            allowDeselect={false}
          />
        )}
        <Pagination
          total={pages}
          value={Math.min(page, pages)}
          onChange={onPage}
          aria-label={`${label} pages`}
          getControlProps={(control) => ({ 'aria-label': `${control} page` })}
          getItemProps={(item) => ({ 'aria-label': `Page ${item}` })}
        />
      </Group>
    </Group>
  );
}
