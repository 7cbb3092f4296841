import { Box, Group, Table, Text, Tooltip } from '@mantine/core';

import { heatCells } from '../lib/charts';

interface Props {
  weekdays: string[];
  counts: number[][];
  timeZone: string;
}

/** Successful logins by weekday and hour: a table (so screen readers can walk it), cells shaded by count. */
export function Heatmap({ weekdays, counts, timeZone }: Props) {
  const rows = heatCells(weekdays, counts);
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  return (
    <Box>
      <Table.ScrollContainer minWidth={720}>
        <Table
          withRowBorders={false}
          horizontalSpacing={2}
          verticalSpacing={2}
          aria-label={`Successful logins by weekday and hour (${timeZone})`}
          data-testid="heatmap"
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">
                <Text size="xs" c="dimmed">
                  Day
                </Text>
              </Table.Th>
              {hours.map((hour) => (
                <Table.Th key={hour} scope="col" ta="center">
                  <Text size="xs" c="dimmed">
                    {String(hour).padStart(2, '0')}
                  </Text>
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((cells, index) => (
              <Table.Tr key={weekdays[index]}>
                <Table.Th scope="row">
                  <Text size="xs">{weekdays[index]}</Text>
                </Table.Th>
                {cells.map((cell) => (
                  <Table.Td key={cell.hour} p={1}>
                    <Tooltip label={`${cell.weekday} ${cell.hour}:00 — ${cell.count} logins`} withArrow>
                      <Box
                        role="img"
                        aria-label={`${cell.weekday} ${cell.hour}:00, ${cell.count} logins`}
                        data-count={cell.count}
                        h={22}
                        bg={cell.count ? 'blue.7' : 'gray.2'}
                        // Opacity through the CSSOM (React's style prop), which the CSP allows.
                        style={{ opacity: cell.count ? 0.15 + 0.85 * cell.intensity : 0.5, borderRadius: 3 }}
                      />
                    </Tooltip>
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Group gap="xs" mt="xs">
        <Text size="xs" c="dimmed">
          Fewer
        </Text>
        {[0.15, 0.4, 0.65, 1].map((opacity) => (
          <Box key={opacity} w={18} h={12} bg="blue.7" style={{ opacity, borderRadius: 2 }} />
        ))}
        <Text size="xs" c="dimmed">
          More
        </Text>
      </Group>
    </Box>
  );
}
