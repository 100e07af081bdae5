import type { Page } from '@playwright/test'
import { expect } from './fixtures'

export interface ExperimentChoice {
  from: string
  to: string
  strategy: RegExp
  /** A command the guest runs instead of the default workload. */
  custom?: string
  probeIntervalMs?: number
  /** Keep the running guest (no reboot), so a second run migrates it back. */
  reuseGuest?: boolean
}

/** Fills the Migrate form as a user would, starts the experiment and waits for its run's view. */
export async function migrate(page: Page, c: ExperimentChoice, timeout = 180_000): Promise<void> {
  const form = page.getByRole('form', { name: 'Experiment' })
  await form.getByRole('combobox', { name: 'From', exact: true }).selectOption(c.from)
  await form.getByRole('combobox', { name: 'To', exact: true }).selectOption(c.to)
  // The driver's capabilities decide which strategies are enabled; wait for them.
  await expect(form.getByRole('checkbox', { name: /^Pre-copy \(baseline\)/ })).toBeEnabled()
  for (const box of await form.getByRole('group', { name: 'Strategies' }).getByRole('checkbox').all()) await box.uncheck()
  await form.getByRole('checkbox', { name: c.strategy }).check()
  if (c.custom !== undefined) {
    for (const box of await form.getByRole('group', { name: 'Guest workloads' }).getByRole('checkbox').all()) await box.uncheck()
    await form.getByRole('checkbox', { name: /Custom command/ }).check()
    await form.getByRole('textbox', { name: 'Custom command' }).fill(c.custom)
  }
  if (c.probeIntervalMs !== undefined || c.reuseGuest !== undefined) {
    await form.getByText('Parameters', { exact: true }).click()
    if (c.probeIntervalMs !== undefined) await form.getByRole('textbox', { name: 'Probe interval (ms)' }).fill(String(c.probeIntervalMs))
    if (c.reuseGuest !== undefined) await form.getByRole('checkbox', { name: /Keep the guest between runs/ }).setChecked(c.reuseGuest)
  }
  await form.getByRole('button', { name: 'Start migration' }).click()
  await expect(page.getByRole('region', { name: 'Experiment progress' }).getByText('succeeded')).toBeVisible({ timeout })
  await expect(page.getByTestId('run-view')).toBeVisible({ timeout: 30_000 })
}
