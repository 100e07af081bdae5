import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { ApiProvider } from './api'
import { createClient } from './client'
import { ErrorBox } from './ErrorBox'
import { asApiError } from './api'
import './styles.css'

const root = createRoot(document.getElementById('root')!)
createClient().then(
  (api) =>
    root.render(
      <StrictMode>
        <ApiProvider api={api}>
          <App />
        </ApiProvider>
      </StrictMode>,
    ),
  (err: unknown) =>
    root.render(
      <main className="page">
        <ErrorBox error={asApiError(err)} />
      </main>,
    ),
)
