import { redirect } from "next/navigation";
import { getUser } from "./_server/auth";

export default async function Home() {
  redirect((await getUser()) ? "/workspaces" : "/sign-in");
}
